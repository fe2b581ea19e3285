import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { documentedBlock } from '../../scripts/docs/generate.ts';
import { ROOT } from '../../tools/local/packaged.ts';
import { atMost, runInGroup } from '../../tools/local/processGroup.ts';

/**
 * The "Run locally" section of docs/operations.md, run as a newcomer would: `npm run local:up`, its
 * `export` lines, then every `sls invoke local` line of that section exactly as written (a block
 * `npm run docs` writes from each function's sampleFixture), then `npm run local:pages`.
 */

/** The invoke lines of docs/operations.md's "Run locally" section, as written. */
function documentedInvokeLines(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  return (documentedBlock(doc, 'invoke-local') ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('npx sls invoke local '));
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

interface Run {
  code: number | null;
  out: string;
}

/**
 * A newcomer's shell: PATH and HOME, and the run's compile cache and temporary folder (vitest.config.ts),
 * which change only how fast node loads its modules and where scratch files go.
 */
const SHELL = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
  ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
};

/** A shell command in the repository with only `env` (and the newcomer's shell), killed with its group after `ms`. */
function sh(command: string, env: Record<string, string>, ms = 120_000): Promise<Run> {
  return runInGroup('sh', ['-c', command], {
    cwd: ROOT,
    env: { ...SHELL, SLS_TELEMETRY_DISABLED: '1', ...env },
    timeoutMs: ms,
  });
}

let localUp: ChildProcess | undefined;
let exported: Record<string, string> = {};
let printed = '';

beforeAll(async () => {
  const port = await freePort();
  localUp = spawn('npm', ['run', 'local:up', '--', '--port', String(port)], {
    cwd: ROOT,
    env: SHELL,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child = localUp;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`local:up printed no exports in 60 s:\n${printed}`)),
      60_000,
    );
    const take = (c: Buffer) => {
      printed += c.toString();
      if (printed.includes('# Ctrl-C')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    child.on('exit', (code) => reject(new Error(`local:up exited with ${code}:\n${printed}`)));
  });
  exported = Object.fromEntries(
    [...printed.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
}, 90_000);

afterAll(() => {
  // Its whole group: npm, tsx and the moto_server it started.
  if (localUp?.pid !== undefined && localUp.exitCode === null) process.kill(-localUp.pid, 'SIGINT');
});

describe('npm run local:up and the commands of docs/operations.md', () => {
  it('prints the exports a local invoke needs, dummy credentials included, on loopback', () => {
    // Assert
    expect(exported.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(exported).toMatchObject({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      STATE_TABLE_NAME: 'ops-autopilot-dev-state',
      PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ops-autopilot-dev-pages',
    });
  });

  it('has an invoke line in docs/operations.md for every registered function', () => {
    // Act
    const invoked = documentedInvokeLines().map((l) => /-f (\S+)/.exec(l)?.[1]);
    // Assert
    expect([...new Set(invoked)].sort()).toEqual(registry.map((e) => e.name).sort());
  });

  const paged: string[] = [];

  /** The response sls invoke local prints last: the pipeline's result, pretty-printed. */
  interface Decided {
    outcomes: { kind: string; status: string; reason?: string; detail?: string }[];
    notes: { reason: string; detail: string }[];
    findings?: Record<string, unknown>;
  }
  const responseOf = (out: string): Decided => {
    const start = out.lastIndexOf('\n{\n');
    return JSON.parse(out.slice(start + 1)) as Decided;
  };
  const outcome = (r: Decided, kind: string) => r.outcomes.find((o) => o.kind === kind);

  /**
   * What each sample event decides once local:up has seeded what it names: not merely an exit code
   * (before, the alarm found no instance, the scan no fleet, the result no record of its execution).
   */
  const decides: Record<string, (r: Decided, out: string) => void> = {
    onAlarm: (r) =>
      expect(outcome(r, 'ssm.start-automation')).toMatchObject({
        status: 'skipped',
        reason: 'dry-run',
        detail: expect.stringContaining('would start AWS-RestartEC2Instance InstanceId=i-0abc1234def567890'),
      }),
    onCloudTrail: (r) =>
      expect(outcome(r, 'ec2.revoke-ingress')).toMatchObject({ status: 'skipped', reason: 'dry-run' }),
    stopIdleInstances: (r) => {
      expect(outcome(r, 'ec2.stop-instances')).toMatchObject({
        status: 'skipped',
        reason: 'dry-run',
        detail: expect.stringMatching(/^would stop 2 instance\(s\): i-/),
      });
    },
    onCostAnomaly: (r) => expect(r.findings?.decision).toBe('page'),
    onRunbookResult: (r) => expect(r.findings?.decision).toBe('escalate'),
    // moto has no backup jobs: the job stays unreadable, said in one line, and the failure is paged.
    onBackupFailure: (r, out) => {
      expect(r.findings?.decision).toBe('page');
      expect(String(r.findings?.why)).toContain('EndpointNotAws: http://127.0.0.1:');
      expect(out).not.toContain('Deserialization error');
      expect(out).not.toContain('is not valid JSON');
    },
  };

  /**
   * A function not named above (a new one, as npm run new:function writes it) still decides: an outcome,
   * a note or a decision in its findings; name it above to say what.
   */
  const decidesSomething = (r: Decided) =>
    expect(r.outcomes.length + r.notes.length + (r.findings?.decision === undefined ? 0 : 1)).toBeGreaterThan(
      0,
    );

  /**
   * The documented lines are independent (each its own sample and resources, dry-run): two run at once,
   * all started by the first test that needs one, each awaited by its own test. Each bundles in a
   * scratch folder of its own (the environment, not the line, says where), or two at once would
   * overwrite each other's bundle.
   */
  let documentedRuns: Map<string, Promise<Run>> | undefined;
  const documentedRun = (line: string): Promise<Run> => {
    if (!documentedRuns) {
      const twoAtOnce = atMost(2);
      documentedRuns = new Map();
      for (const l of documentedInvokeLines()) {
        const fn = /-f (\S+)/.exec(l)?.[1] ?? l;
        const run = twoAtOnce(() =>
          sh(l, { ...exported, OPS_ESBUILD_WORK_FOLDER: `.esbuild/local-${process.pid}-${fn}` }),
        );
        // Awaited by its own test; one that never runs must not fail the file as an unhandled rejection.
        run.catch(() => undefined);
        documentedRuns.set(l, run);
      }
    }
    return documentedRuns.get(line) ?? sh(line, exported);
  };

  it.each(registry.map((e) => e.name))(
    'runs the documented line for %s as written against it, and it decides',
    async (name) => {
      // Arrange
      const line = documentedInvokeLines().find((l) => l.includes(` -f ${name} `));
      expect(line, `no invoke line for ${name} in docs/operations.md`).toBeDefined();
      // Act
      const result = await documentedRun(line as string);
      // Assert
      expect(result.code, result.out).toBe(0);
      if (name === 'approveAction') {
        // A person's decision answers a refusal, not outcomes: the local table holds no such approval.
        expect(result.out).toContain('"refused": "unknown"');
        return;
      }
      expect(result.out).toContain('"outcomes"');
      (decides[name] ?? decidesSomething)(responseOf(result.out), result.out);
      for (const m of result.out.matchAll(/paged \\"(.+?)\\"/g)) paged.push(m[1] as string);
    },
    150_000,
  );

  it('shows the pages the documented lines sent with npm run local:pages, once each', async () => {
    // Act
    const first = await sh('npm run local:pages', {
      LOCAL_PORT: new URL(exported.AWS_ENDPOINT_URL ?? '').port,
    });
    const second = await sh('npm run local:pages', {
      LOCAL_PORT: new URL(exported.AWS_ENDPOINT_URL ?? '').port,
    });
    // Assert
    expect(first.code, first.out).toBe(0);
    expect(paged.length).toBeGreaterThan(0);
    for (const subject of paged) expect(first.out).toContain(`=== ${subject}`);
    expect(second.out).toContain('no new pages');
  }, 60_000);

  it('says in one line that the endpoint answered an HTML page, not AWS, instead of a deserialization error', async () => {
    // Arrange: the exports, with the endpoint moved to a web server that is not AWS (or an emulator's
    // "404 Not Found" page for a call it lacks).
    const web = createHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n');
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const html = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
    const line = documentedInvokeLines().find((l) => l.includes(' -f onAlarm ')) as string;
    try {
      // Act
      const result = await sh(line, { ...exported, AWS_ENDPOINT_URL: html });
      // Assert
      expect(result.code, result.out).toBe(1);
      expect(result.out).toContain(`"errorMessage": "EndpointNotAws: ${html} answered `);
      expect(result.out).toContain('with an HTML page (HTTP 404), not an AWS response');
      expect(result.out).not.toContain('Deserialization error');
      expect(result.out).not.toContain('is not valid JSON');
    } finally {
      await new Promise((resolve) => web.close(resolve));
    }
  }, 150_000);

  it('names the unreachable endpoint, not the idempotency store, when nothing listens there', async () => {
    // Arrange: the exports, with the endpoint moved to a port nothing listens on.
    const line = documentedInvokeLines().find((l) => l.includes(' -f onAlarm ')) as string;
    const closed = `http://127.0.0.1:${await freePort()}`;
    // Act
    const result = await sh(line, { ...exported, AWS_ENDPOINT_URL: closed });
    // Assert
    expect(result.code).toBe(1);
    expect(result.out).toContain('"errorMessage": "no AWS endpoint answered: connect ECONNREFUSED');
    expect(result.out).toContain('npm run local:up');
  }, 150_000);
});
