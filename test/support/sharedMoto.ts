import { readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type Moto, motoCanOutliveStarter, startDetachedMoto, startMoto } from '../../tools/local/moto.ts';

/**
 * A moto_server for one test file, reused by the files after it: starting moto costs seconds of CPU
 * (Python, moto's imports, each service's first call), and the emulator files ran 27 of them. The run
 * keeps one moto per slot (test/support/motoPool.ts); a file claims a free slot for its whole run, so
 * no two files running at once share a moto, and gets its moto reset (`POST /moto-api/reset`), so it
 * starts from nothing as if the moto were new. `stop()` hands the slot on; the run stops the motos.
 * Without the Python beside moto_server (the shared moto needs it) the file starts its own, as before.
 */
export async function claimSharedMoto(): Promise<Moto> {
  if (!motoCanOutliveStarter()) return startMoto();
  const { dir, runnerPid } = inject('motoPool');
  const slot = claimSlot(dir);
  const owner = join(dir, `slot-${slot}.owner`);
  try {
    const moto = await motoOfSlot(dir, slot, runnerPid);
    return {
      ...moto,
      async reset() {
        await resetMoto(moto.endpoint);
      },
      async stop() {
        unlinkSync(owner);
      },
    };
  } catch (error) {
    unlinkSync(owner);
    throw error;
  }
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether the process that owns this slot still runs (a claim handed on meanwhile: no, try again). */
function ownerIsRunning(owner: string): boolean {
  try {
    const pid = Number(readFileSync(owner, 'utf8'));
    return pid > 0 && isRunning(pid);
  } catch {
    return false;
  }
}

/** The first slot no running process owns, now owned by this one (its pid in slot-N.owner). */
function claimSlot(dir: string): number {
  for (let slot = 0; ; slot++) {
    const owner = join(dir, `slot-${slot}.owner`);
    try {
      writeFileSync(owner, String(process.pid), { flag: 'wx' });
      return slot;
    } catch {
      // Owned; a worker that died mid-file leaves its claim behind: the slot is free again.
      if (ownerIsRunning(owner)) continue;
      rmSync(owner, { force: true });
      slot--;
    }
  }
}

async function resetMoto(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto at ${endpoint} refused its reset: ${res.status}`);
}

/** The slot's moto, reset; started (and recorded) when the slot has none or its moto has gone. */
async function motoOfSlot(
  dir: string,
  slot: number,
  runnerPid: number,
): Promise<{ endpoint: string; pid: number }> {
  const record = join(dir, `slot-${slot}.json`);
  try {
    const kept = JSON.parse(readFileSync(record, 'utf8')) as { endpoint: string; pid: number };
    await resetMoto(kept.endpoint);
    return kept;
  } catch {
    // None yet, or it died: start one.
  }
  const started = await startDetachedMoto({ whileAlive: runnerPid, logFile: join(dir, `slot-${slot}.log`) });
  if (!started) throw new Error('moto_server cannot outlive this process here (no Python beside it)');
  writeFileSync(record, JSON.stringify(started));
  return started;
}
