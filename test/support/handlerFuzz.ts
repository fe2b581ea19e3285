import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CloudTrailClient, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { GetPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll } from 'vitest';
import type { LambdaHandler } from '#functions/index.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { LONE_SURROGATES } from './unicode.ts';

// The harness of the handler fuzz tests (test/fuzz/handlers*.fuzz.test.ts): every AWS client mocked, inputs, verdicts.

// Every AWS client mocked (the kit finds them all) and the stage dry: whatever the fuzz finds, nothing
// leaves the process.
export const aws = await mockAwsClients();
export const ssm = aws.of(SSMClient);
export const sns = aws.of(SNSClient);
export const dynamodb = aws.of(DynamoDBClient);
export const documents = aws.of(DynamoDBDocumentClient);
export const cloudwatch = aws.of(CloudWatchClient);
export const ec2 = aws.of(EC2Client);
export const tagging = aws.of(ResourceGroupsTaggingAPIClient);
export const s3 = aws.of(S3Client);
export const cloudtrail = aws.of(CloudTrailClient);
export const budgets = aws.of(BudgetsClient);
export const backup = aws.of(BackupClient);

/**
 * Inputs per function: mutations of its own valid fixtures, other sources' events and plain junk.
 * FUZZ_RUNS may raise it for a longer local run, never lower it.
 */
export const RUNS = Math.max(10_000, Number(process.env.FUZZ_RUNS ?? 0));
/** Fixed, so a failure names a seed and path that replay it exactly. */
export const SEED = 20_250_615;

/** Errors a handler may reject with: a refused event, nothing else (the mocks never fail). */
export const ALLOWED_ERRORS = new Set(['InvalidEventError']);

/** Commands that only read: every other call acts, pages or writes state. */
export const READS = /^(Get|Describe|List|Query|Scan|BatchGet|Head|Lookup)/;

/**
 * The calls that act or page, and every state-table write, on any client (a new client's too): none
 * may follow an invalid event.
 */
export function mutatingCalls(): string[] {
  return aws
    .calls()
    .map((call) => call.command)
    .filter((command) => !READS.test(command));
}

export const FIXTURE_EXECUTION = '333ba70b-2333-48db-b17e-a5e69c6f4d1c';

export function answerEverything(): void {
  aws.reset();
  // An empty table and an empty account: every conditional write succeeds, every read finds nothing.
  aws.answerAsEmptyStateTable();
  // The runbook execution the onRunbookResult fixtures report on is one onAlarm started, so a valid
  // result goes on to its claim and page instead of stopping at "not ours".
  const record = {
    executionId: FIXTURE_EXECUTION,
    incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
    document: 'runcommand1',
    rule: 'restart-unresponsive-instance',
    correlationId: 'alarm-delivery',
    account: '123456789012',
    region: 'us-east-1',
    signal: {
      kind: 'alarm.state-change',
      title: 'web-status-check is ALARM',
      summary: '',
      occurredAt: '',
      links: [],
    },
    severity: 'high',
    pageId: 'page-of-the-alarm',
    startedAt: 1,
  };
  const recordKey = { id: `ops-autopilot-dev#shared#automation#${FIXTURE_EXECUTION}` };
  documents.on(GetCommand, { Key: recordKey }).resolves({ Item: record });
  // Its result's claim returns that record (ALL_NEW): an escalation is worded from it.
  documents.on(UpdateCommand, { Key: recordKey }).resolves({ Attributes: record });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
  ec2.on(DescribeInstanceAttributeCommand).resolves({});
  s3.on(GetPublicAccessBlockCommand).resolves({});
  cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
  backup.on(DescribeBackupJobCommand).resolves({});
  backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'j-1' });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
}

export const ENV_KEYS = ['STATE_TABLE_NAME', 'PAGE_TOPIC_ARN', 'DRY_RUN'] as const;
export const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
beforeAll(() => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'true';
  resetConfigForTests();
  answerEverything();
});
afterAll(() => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  resetConfigForTests();
});

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Path = (string | number)[];

/** Every path into a value up to the fixtures' depth, the root excluded: the places a mutation can hit. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object' || prefix.length >= 12) return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...pathsOf((value as Record<string | number, unknown>)[key], path)];
  });
}

export function parentOf(root: unknown, path: Path): Record<string | number, unknown> | undefined {
  let node: unknown = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>) : undefined;
}

/** Defines an own property, so `__proto__` becomes a key (as JSON.parse makes it) rather than a prototype. */
export function setOwn(target: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

// A few fixed huge values: generated strings stay small, so the run time stays bounded.
export const HUGE = [
  'x'.repeat(300_000),
  '\u{1F4A5}'.repeat(70_000),
  '\uD800'.repeat(50_000),
  `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${'n'.repeat(100_000)}`,
];
export const deepJunk = (depth: number): unknown => {
  let node: unknown = 'bottom';
  for (let i = 0; i < depth; i++) node = i % 2 === 0 ? [node] : { a: node };
  return node;
};

export const strings = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.string({ unit: 'binary', maxLength: 32 }),
  fc.constantFrom(...LONE_SURROGATES),
  fc.string({ maxLength: 4096 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\n',
    'null',
    'NaN',
    '1e309',
    '-1',
    '2025-13-45T99:99:99Z',
    '0000-00-00',
  ),
  fc.constantFrom(...HUGE),
);

/** A value of any type, to put where the schema expects another. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  strings,
  fc.constantFrom(null, undefined, true, false, 0, -0, -1, 1e308, Number.NaN, Number.POSITIVE_INFINITY),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -Number.MAX_VALUE),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(strings, { maxLength: 4 }),
  fc.dictionary(strings, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.constantFrom(deepJunk(50), deepJunk(2_000)),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}')),
);

export type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'prototype-key'; at: number; key: string; value: unknown }
  | { op: 'add-key'; at: number; key: string; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: junk }),
  fc.record({
    op: fc.constant('prototype-key' as const),
    at: fc.nat(),
    key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
    value: junk,
  }),
  fc.record({ op: fc.constant('add-key' as const), at: fc.nat(), key: strings, value: junk }),
);

/** A fixture with one to three mutations applied; `at` picks a path (or the root for new keys). */
export function mutate(fixture: Json, mutations: Mutation[]): unknown {
  const event = structuredClone(fixture) as unknown;
  for (const m of mutations) {
    const paths = pathsOf(event);
    if (m.op === 'delete' || m.op === 'replace') {
      const path = paths[m.at % Math.max(paths.length, 1)];
      const parent = path && parentOf(event, path);
      const key = path?.at(-1);
      if (!parent || key === undefined) continue;
      if (m.op === 'delete') {
        if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
        else delete parent[key];
      } else setOwn(parent, key, structuredClone(m.value));
      continue;
    }
    // New keys go on the root or on any object inside it.
    const objects = [[] as Path, ...paths].filter((path) => {
      const node = path.length === 0 ? event : parentOf(event, path)?.[path.at(-1) as string | number];
      return node !== null && typeof node === 'object' && !Array.isArray(node);
    });
    const path = objects[m.at % objects.length] ?? [];
    const target = (path.length === 0 ? event : parentOf(event, path)?.[path.at(-1) as string | number]) as
      | Record<string, unknown>
      | undefined;
    if (target) setOwn(target, m.key, structuredClone(m.value));
  }
  return event;
}

export const fixturesOf = (name: string) =>
  listFixtures()
    .filter((f) => f.startsWith(`${name}/`) && !f.includes('/invalid/'))
    .map((f) => loadFixture<Json>(f));

/** The inputs for one function: its own events broken, others' events whole, and junk. */
export function inputsFor(name: string): fc.Arbitrary<unknown> {
  const own = fixturesOf(name);
  const others = listFixtures()
    .filter((f) => !f.startsWith(`${name}/`))
    .map((f) => loadFixture<Json>(f));
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...own), fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([f, ms]) => mutate(f, ms)),
    },
    { weight: 1, arbitrary: fc.constantFrom(...own).map((f) => structuredClone(f)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...others), fc.array(mutation, { maxLength: 1 }))
        .map(([f, ms]) => mutate(f, ms)),
    },
    { weight: 1, arbitrary: junk },
  );
}

export interface Verdict {
  resolved: boolean;
  error?: unknown;
  mutations: string[];
}

export async function run(handler: LambdaHandler, event: unknown): Promise<Verdict> {
  aws.resetHistory();
  try {
    await handler(event, makeContext());
    return { resolved: true, mutations: mutatingCalls() };
  } catch (error) {
    return { resolved: false, error, mutations: mutatingCalls() };
  }
}

/** Why a verdict breaks the promise, or undefined when it keeps it. */
export function violation(name: string, verdict: Verdict): string | undefined {
  if (verdict.resolved) return undefined;
  const error = verdict.error;
  if (!(error instanceof Error)) return `rejected with a non-Error: ${String(error)}`;
  if (!ALLOWED_ERRORS.has(error.name)) return `crashed: ${error.name}: ${error.message.slice(0, 300)}`;
  const issues = (error as Error & { issues?: { path: string }[] }).issues ?? [];
  const named = issues.length > 0 && issues.every((i) => i.path.length > 0);
  if (!error.message.startsWith(`${name}: invalid event: `) || !named) {
    return `rejected without naming a field: ${error.message.slice(0, 300)}`;
  }
  if (verdict.mutations.length > 0) return `acted on an invalid event: ${verdict.mutations.join(', ')}`;
  return undefined;
}

/** A failure names its seed, path and a bounded view of the input: the full one may hold megabytes. */
export function compactReport<T>(details: fc.RunDetails<[T]>): void {
  if (!details.failed) return;
  const input = JSON.stringify(details.counterexample?.[0], (_, v) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}...(${v.length} chars)` : v,
  );
  throw new Error(
    `seed ${details.seed}, path ${details.counterexamplePath}: ${String(details.errorInstance)}\ninput: ${input?.slice(0, 4000)}`,
  );
}
