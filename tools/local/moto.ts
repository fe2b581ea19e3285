import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * One moto_server per test file (or demo run) on a free loopback port. A missing moto is an error,
 * never a skip: the emulator tests are part of the contract.
 */
export interface Moto {
  endpoint: string;
  /** Its process id: `npm run local:up` prints it, so a person stops this emulator and no other. */
  pid: number | undefined;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export function findMotoCommand(): string[] {
  const fromEnv = process.env.MOTO_SERVER;
  if (fromEnv) return fromEnv.split(' ');
  const onPath = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return [onPath];
  const shim = join(homedir(), '.pyenv', 'shims', 'moto_server');
  if (existsSync(shim)) return [shim];
  throw new Error(
    'moto_server was not found (not on PATH, not in ~/.pyenv/shims, MOTO_SERVER unset). ' +
      'The emulator tests need it: install Python moto[server] 5.x, e.g. `pip install "moto[server]>=5,<6"`.',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const seen = output();
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${seen}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${output()}`);
}

/** The Python beside moto_server (the one that has moto), or undefined when there is none. */
function motoPython(): string | undefined {
  const [server] = findMotoCommand();
  return ['python3', 'python']
    .map((name) => join(dirname(server as string), name))
    .find((candidate) => existsSync(candidate));
}

/**
 * moto_server run by the Python beside it, with `setup` (Python lines) run first; undefined when there
 * is no such Python.
 */
function motoWith(setup: string[]): string[] | undefined {
  const python = motoPython();
  if (!python) return undefined;
  const launcher = [...setup, 'from moto.server import main', 'sys.argv[0] = "moto_server"', 'main()'];
  return [python, '-c', ['import sys', ...launcher].join('\n')];
}

/**
 * moto_server whose first EC2 instances get these ids, then random ones as usual: RunInstances takes no
 * id, and a sample event names its instance (`npm run local:up` seeds the one onAlarm's sample alarm is
 * about).
 */
function motoWithInstanceIds(ids: string[]): string[] | undefined {
  return motoWith([
    'import moto.ec2.models.instances as instances',
    `fixed = ${JSON.stringify(ids)}`,
    'generated = instances.random_instance_id',
    'instances.random_instance_id = lambda: fixed.pop(0) if fixed else generated()',
  ]);
}

/**
 * moto_server that exits by itself once process `pid` has gone: one that outlives the process starting
 * it (a test run's shared moto) cannot be left behind by a run that was killed.
 */
function motoWhileAlive(pid: number): string[] | undefined {
  return motoWith([
    'import os, threading, time',
    'def watch():',
    '    while True:',
    '        time.sleep(1)',
    '        try:',
    `            os.kill(${pid}, 0)`,
    '        except OSError:',
    '            os._exit(0)',
    'threading.Thread(target=watch, daemon=True).start()',
  ]);
}

/** Whether `startMoto` can start a moto that outlives its starter (it needs the Python beside moto_server). */
export function motoCanOutliveStarter(): boolean {
  return motoPython() !== undefined;
}

/** A moto that outlives the process starting it: its output goes to `logFile`, it exits when `whileAlive` has. */
export interface DetachedMoto {
  whileAlive: number;
  logFile: string;
}

/**
 * On a free loopback port, or on `port` (`npm run local:up` keeps a fixed one to paste into shells);
 * `instanceIds`: the ids of the first instances it runs, when it can (see motoWithInstanceIds).
 */
export async function startMoto(
  port?: number,
  options: { instanceIds?: string[] } = {},
): Promise<Moto & { instanceIdsFixed: boolean }> {
  const fixed = options.instanceIds?.length ? motoWithInstanceIds(options.instanceIds) : undefined;
  const [command, ...args] = fixed ?? findMotoCommand();
  port ??= await freePort();
  const child = spawn(command as string, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, child, () => {
    if (spawnError) throw new Error(`moto_server could not be started (${command}): ${spawnError.message}`);
    return log;
  });
  return {
    endpoint,
    pid: child.pid,
    instanceIdsFixed: fixed !== undefined,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * moto_server on a free loopback port that outlives the process starting it (detached, unreferenced,
 * its output in `logFile`) and exits once process `whileAlive` has: several processes in turn use it
 * (test/support/sharedMoto.ts). Undefined when it cannot be started so (no Python beside moto_server).
 */
export async function startDetachedMoto(
  options: DetachedMoto,
): Promise<{ endpoint: string; pid: number } | undefined> {
  const launcher = motoWhileAlive(options.whileAlive);
  if (!launcher) return undefined;
  const [command, ...args] = launcher;
  const port = await freePort();
  const log = openSync(options.logFile, 'a');
  const child = spawn(command as string, [...args, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  closeSync(log);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(endpoint, child, () => {
      if (spawnError) throw new Error(`moto_server could not be started (${command}): ${spawnError.message}`);
      return `see ${options.logFile}`;
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.unref();
  return { endpoint, pid: child.pid as number };
}

/** Points every AWS SDK client created after this call at moto. */
export function useMotoEnvironment(endpoint: string): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
}
