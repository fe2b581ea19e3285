/** `sls invoke local` with the fixtures, after a start-up error, and without credentials. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { type Moto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { ROOT, runSls, withSlsPath } from '../../tools/local/packaged.ts';
import { atMost, runInGroup } from '../../tools/local/processGroup.ts';
import { claimSharedMoto } from '../support/sharedMoto.ts';

const INVOKE_LOCAL_MANY = join(ROOT, 'tools', 'local', 'invokeLocalMany.cjs');

/**
 * The runs are independent (their own stack in moto per describe, their own events): two run at once
 * (the fixtures' batch, the start-up errors' CLIs), each started when the file starts and awaited by its
 * test, so one's start-up overlaps another's instead of all in a row.
 */
const twoAtOnce = atMost(2);
let bundles = 0;
/** A scratch folder of its own per invocation: two at once would overwrite each other's bundle. */
const ownBundleFolder = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...env,
  OPS_ESBUILD_WORK_FOLDER: `${process.env.OPS_ESBUILD_WORK_FOLDER ?? '.esbuild'}-invoke-${++bundles}`,
});

/**
 * A run started before its test awaits it: its failure is the test's, not an unhandled rejection of the
 * file when an earlier failure (moto not starting) leaves it unawaited.
 */
function started<T>(run: Promise<T>): Promise<T> {
  run.catch(() => undefined);
  return run;
}

// One moto for the file (a start is seconds of CPU); each describe gets a stack of its own in it.
let moto: Moto;
const motoUp = started(
  claimSharedMoto().then((up) => {
    moto = up;
    useMotoEnvironment(moto.endpoint);
  }),
);
beforeAll(async () => {
  await motoUp;
});
afterAll(async () => {
  await moto?.stop();
});

/** A stack's table and topic in moto, and the shell environment `sls invoke local` runs with against it. */
async function invokeLocalEnvironment(stackName: string): Promise<NodeJS.ProcessEnv> {
  const stack = await createLocalStack(stackName);
  return {
    ...process.env,
    AWS_ENDPOINT_URL: moto.endpoint,
    STATE_TABLE_NAME: stack.tableName,
    PAGE_TOPIC_ARN: stack.topicArn,
    DRY_RUN: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

describe('sls invoke local with the fixtures', () => {
  const env = started(motoUp.then(() => invokeLocalEnvironment('ops-autopilot-invoke')));

  /**
   * Each sample and the invalid fixture, `sls invoke local -f <fn> --path <fixture>` each, all in one
   * process (tools/local/invokeLocalMany.cjs): osls's CLI once per invocation, its modules loaded once
   * instead of eight times. What each printed on stdout (and stderr on a failure), and its exit code.
   */
  const fixtures = [
    ...registry.map((e) => [e.name, `events/${e.deployment.sampleFixture}`] as const),
    ['onAlarm', 'events/onAlarm/invalid/missing-alarm-name.json'] as const,
  ];
  const invoked = started(
    twoAtOnce(async () => {
      const shared = withSlsPath({ ...(await env), SLS_TELEMETRY_DISABLED: '1' });
      const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-invoke-local-'));
      const invocations = join(dir, 'invocations.json');
      const results = join(dir, 'results.json');
      writeFileSync(
        invocations,
        JSON.stringify(
          fixtures.map(([fn, path]) => ({
            args: ['invoke', 'local', '-f', fn, '--path', path],
            env: ownBundleFolder(shared),
          })),
        ),
      );
      const batch = await runInGroup(process.execPath, [INVOKE_LOCAL_MANY, invocations, results], {
        cwd: ROOT,
        env: shared,
        timeoutMs: 300_000,
      });
      if (batch.hung || batch.code !== 0 || !existsSync(results)) {
        throw new Error(`${INVOKE_LOCAL_MANY} ${batch.hung ? 'hung' : `exited ${batch.code}`}: ${batch.out}`);
      }
      return (
        JSON.parse(readFileSync(results, 'utf8')) as { code: number; stdout: string; stderr: string }[]
      ).map((r) => ({ ok: r.code === 0, out: r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}` }));
    }),
  );
  /** The result of `sls invoke local` of `fn` with the fixture at `path`. */
  const invokeLocal = async (fn: string, path: string) => {
    const at = fixtures.findIndex(([f, p]) => f === fn && p === path);
    const result = (await invoked)[at];
    if (result === undefined) throw new Error(`${fn} was not invoked with ${path}`);
    return result;
  };
  const samples = new Map(
    registry.map((e) => [e.name, invokeLocal(e.name, `events/${e.deployment.sampleFixture}`)] as const),
  );
  const invalid = invokeLocal('onAlarm', 'events/onAlarm/invalid/missing-alarm-name.json');

  /** What each function's sample prints, beyond a successful run. */
  const printed: Record<string, string[]> = {
    // The sample's instance does not exist in the emulator: the runbook is refused as out of scope.
    onAlarm: ['"reason": "out-of-scope"', 'paged \\"[HIGH] alarm.state-change: web-cpu-high is ALARM\\"'],
    // No function ARN in the local context; the empty emulator has no instances.
    // Dry-run: the world-open ingress rule is paged, and the page says what would be revoked.
    onCloudTrail: [
      '"reason": "dry-run"',
      'would revoke tcp 22 from 0.0.0.0/0 on sg-0123456789abcdef0',
      'paged \\"[CRITICAL] cloudtrail.detection: sg-0123456789abcdef0 opened',
    ],
    stopIdleInstances: ['"trigger": "manual"', '"dryRun": true', '"verdicts": []'],
    // The documented sample is above the default thresholds: it pages, with its root cause.
    onCostAnomaly: ['paged \\"[WARNING] cost.anomaly: Amazon Elastic Compute Cloud - Compute: +$1,001.00'],
    // The documented sample: its vault "does not exist", so it pages and is not retried.
    onBackupFailure: ['paged \\"[HIGH] backup.job: Backup job FAILED: type resource-id'],
    // No state table holds the sample's approval id: refused as unknown, naming the stage.
    approveAction: ['"refused": "unknown"', 'no approval ap-3f2b8c1d4e5a60718293a4b5c6d7e8f9 on stage dev'],
  };
  /** A refusal answers `{ refused, message }`, not the pipeline's outcomes. */
  const answersRefusal = new Set(['approveAction']);

  it.each(registry.map((e) => [e.name, e.deployment.sampleFixture] as const))(
    'runs %s offline on its sample %s and prints the decision',
    async (name, fixture) => {
      // Act
      const result = await (samples.get(name) ?? invokeLocal(name, `events/${fixture}`));
      // Assert
      expect(result.ok, result.out).toBe(true);
      if (!answersRefusal.has(name)) expect(result.out).toContain('"outcomes"');
      for (const text of printed[name] ?? []) expect(result.out).toContain(text);
    },
    120_000,
  );

  it('fails on an invalid fixture with the error type and the field', async () => {
    // Act
    const result = await invalid;
    // Assert
    expect(result.ok).toBe(false);
    expect(result.out).toContain('"errorType": "InvalidEventError"');
    expect(result.out).toContain('detail.alarmName');
  }, 120_000);
});

describe('sls invoke local after a start-up error or without credentials', () => {
  const env = started(motoUp.then(() => invokeLocalEnvironment('ops-autopilot-startup')));
  const invoke = ['invoke', 'local', '-f', 'onAlarm', '--path', 'events/onAlarm/metric-alarm.json'];
  /** `sls invoke local` of the sample alarm with the stack's environment changed: started now, two at once. */
  const invokeWith = (change: (env: NodeJS.ProcessEnv) => NodeJS.ProcessEnv) =>
    started(twoAtOnce(async () => runSls(invoke, ownBundleFolder(change(await env)))));

  const withoutTable = invokeWith(({ STATE_TABLE_NAME: _unset, ...rest }) => rest);
  const placeholderTopic = invokeWith((e) => ({ ...e, PAGE_TOPIC_ARN: '<your-page-topic-arn>' }));
  const missingTopic = invokeWith((e) => ({
    ...e,
    PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:REPLACE_ME',
  }));
  // No credentials anywhere the SDK looks (environment, profile files, instance metadata).
  const withoutCredentials = invokeWith((e) => {
    const nowhere = mkdtempSync(join(tmpdir(), 'ops-autopilot-no-credentials-'));
    const noCredentials: NodeJS.ProcessEnv = {
      ...e,
      AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'no-credentials'),
      AWS_CONFIG_FILE: join(nowhere, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_DEFAULT_PROFILE',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_ROLE_ARN',
    ]) {
      delete noCredentials[name];
    }
    return noCredentials;
  });

  it('exits non-zero with the message when STATE_TABLE_NAME is not set', async () => {
    // Act
    const result = await withoutTable;
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('STATE_TABLE_NAME is not set');
  }, 120_000);

  it('exits non-zero naming PAGE_TOPIC_ARN when it holds a placeholder instead of an ARN', async () => {
    // Act
    const result = await placeholderTopic;
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('PAGE_TOPIC_ARN: must be an SNS topic ARN');
    // Thrown by the first invocation (no tracer reads the environment at import any more), so sls prints
    // it inside its JSON errorMessage, quotes escaped.
    expect(result.out).toMatch(/got \\?"<your-page-topic-arn>\\?"/);
  }, 120_000);

  it('exits non-zero saying the page could not be sent when PAGE_TOPIC_ARN names no topic', async () => {
    // Act
    const result = await missingTopic;
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('sns.page: could not send');
  }, 120_000);

  it('exits non-zero saying there are no AWS credentials, not only that the idempotency store failed', async () => {
    // Act
    const result = await withoutCredentials;
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('"errorMessage": "no AWS credentials:');
    expect(result.out).toContain('set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }, 120_000);
});
