import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/local/packaged.ts';

/**
 * `npm run local:up` on a shared machine: it says how to stop exactly its own emulator, by PID, so
 * nobody needs `pkill -f moto_server`, which ends everyone's.
 */

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let localUp: ChildProcess | undefined;
afterAll(() => {
  // Only if the test failed before stopping it: its own group, nobody else's.
  if (localUp?.pid !== undefined && localUp.exitCode === null) process.kill(-localUp.pid, 'SIGKILL');
});

describe('npm run local:up', () => {
  it('prints the kill command that stops its own emulator and frees its port', async () => {
    // Arrange
    const port = await freePort();
    localUp = spawn('npx', ['tsx', 'scripts/localUp.ts', '--port', String(port)], {
      cwd: ROOT,
      env: { ...process.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = localUp;
    let printed = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`local:up was not ready in 60 s:\n${printed}`)),
        60_000,
      );
      child.stdout?.on('data', (c: Buffer) => {
        printed += c.toString();
        if (printed.includes('# Ctrl-C')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr?.on('data', (c: Buffer) => {
        printed += c.toString();
      });
    });
    const stop = /^# From another shell: kill (\d+)\b/m.exec(printed);
    const moto = /moto_server \(pid (\d+)\) on /m.exec(printed);
    expect(stop, printed).not.toBeNull();
    expect(moto, printed).not.toBeNull();
    const [stopPid, motoPid] = [Number(stop?.[1]), Number(moto?.[1])];
    expect(isRunning(motoPid)).toBe(true);
    expect(await portIsFree(port)).toBe(false);
    // Act: what the printed line says.
    process.kill(stopPid, 'SIGTERM');
    await exited;
    // Assert
    expect(isRunning(motoPid)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
  }, 90_000);
});
