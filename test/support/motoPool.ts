/**
 * vitest's global setup: the folder where the run's shared moto_servers are recorded (sharedMoto.ts),
 * and this process's id, which each of them watches so a killed run leaves none behind. Nothing is
 * started here: the first emulator file of each worker slot starts its slot's moto, so a run of unit
 * tests alone starts none. At the end of the run every recorded moto is stopped.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export interface MotoPool {
  /** Where each slot's owner (slot-N.owner), moto (slot-N.json) and moto output (slot-N.log) are kept. */
  dir: string;
  /** The test run's process: a shared moto exits once it has gone. */
  runnerPid: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    motoPool: MotoPool;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-moto-'));
  project.provide('motoPool', { dir, runnerPid: process.pid });
  return () => {
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
      const { pid } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { pid: number };
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
