import { spawn } from 'node:child_process';

/** A finished child: its exit code, stdout and stderr together, and whether it was killed for running long. */
export interface GroupRun {
  code: number | null;
  out: string;
  /** Still running after the time allowed: killed, with everything it started. */
  hung: boolean;
}

/**
 * `command args` in its own process group, bounded: a run still going after `timeoutMs` is killed with
 * the whole group (npx, osls, esbuild's service) and reported as hung, so a test fails instead of waiting
 * forever. Rejects only when the command cannot be started.
 */
export function runInGroup(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<GroupRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, hung });
    });
  });
}

/**
 * A bound on how many commands run at once: `run(work)` starts `work` when fewer than `limit` are running,
 * in the order asked. Independent CLI runs (each seconds of start-up, much of it waiting on the disk and
 * on other processes) overlap without starting them all at once on a two-core machine.
 */
export function atMost(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queued: (() => void)[] = [];
  const next = () => {
    if (running >= limit) return;
    const start = queued.shift();
    if (start) start();
  };
  return <T>(work: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queued.push(() => {
        running++;
        work()
          .then(resolve, reject)
          .finally(() => {
            running--;
            next();
          });
      });
      next();
    });
}
