import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import type { RunbookIntent } from '#shared/domain/intent.ts';
import { done } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { MutatingExecutor } from '#shared/executors/types.ts';
import { type ActingTarget, actInTarget } from '#shared/organization/target.ts';
import { guardedExecute } from '#shared/runtime/rateGuardedExecution.ts';
import { claimStopBudget, readStopBudget } from '#shared/state/stopBudget.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { makeConfig } from '../support/config.ts';
import { type Latch, latch } from '../support/latch.ts';

// Handler layer, stage `org`: the hourly stop budget and the rate guard count per account, so one
// member's storm cannot spend another member's; the stop budget's stage-wide ceiling
// (organization.maxStopsPerHour) still holds across them. The state table is an in-memory table that
// honours the conditions the code sends.
const aws = await mockAwsClients();
const documents = aws.of(DynamoDBDocumentClient);
type Item = Record<string, unknown> & { id: string };
const table = new Map<string, Item>();
let holdReads: { count: number; all: Latch } | undefined;

const conditionalFailure = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

async function get(input: GetCommandInput) {
  const item = table.get(String(input.Key?.id));
  const snapshot = item ? structuredClone(item) : undefined;
  // Hold the first reads until all of them have read: the runs then claim from the same state.
  if (holdReads && holdReads.count > 0) {
    holdReads.count--;
    if (holdReads.count === 0) holdReads.all.open();
    await holdReads.all.opened;
  }
  return snapshot ? { Item: snapshot } : {};
}

function put(input: PutCommandInput) {
  const item = input.Item as Item;
  const current = table.get(item.id);
  const condition = input.ConditionExpression;
  if (condition === 'attribute_not_exists(id)' && current) throw conditionalFailure();
  if (
    condition === 'version = :version' &&
    current?.version !== input.ExpressionAttributeValues?.[':version']
  )
    throw conditionalFailure();
  table.set(item.id, structuredClone(item));
  return {};
}

/** The rate guard's window: a set of action ids, refused once it holds `:max` others. */
function update(input: UpdateCommandInput) {
  const id = String(input.Key?.id);
  const values = input.ExpressionAttributeValues ?? {};
  const current = table.get(id) ?? { id };
  const actions = (current.actions as Set<string> | undefined) ?? new Set<string>();
  if (input.UpdateExpression?.startsWith('ADD actions')) {
    const action = [...(values[':action'] as Set<string>)][0] as string;
    if (!actions.has(action) && actions.size >= Number(values[':max'])) throw conditionalFailure();
    table.set(id, { ...current, actions: new Set([...actions, action]) });
  }
  return {};
}

const member = (account: string): ActingTarget => ({
  account,
  region: 'eu-west-1',
  credentials: async () => ({ accessKeyId: `ASIA${account}`, secretAccessKey: 's' }),
});
const A = member('222222222222');
const B = member('333333333333');
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `i-${prefix}${k}`);
const org = stages.org as StageConfigInput;

function withOrganizationCeiling(maxStopsPerHour: number): void {
  stages.org = { ...org, organization: { ...(org.organization as object), maxStopsPerHour } } as never;
  resetConfigForTests();
}

beforeEach(() => {
  aws.reset();
  table.clear();
  holdReads = undefined;
  documents.on(GetCommand).callsFake(get);
  documents.on(PutCommand).callsFake(put);
  documents.on(UpdateCommand).callsFake(update);
  process.env.STAGE = 'org';
  process.env.STATE_TABLE_NAME = 'state';
  resetConfigForTests();
});

afterEach(() => {
  stages.org = org;
  process.env.STAGE = 'dev';
  resetConfigForTests();
});

describe("an organization's hourly stop budget, per account", () => {
  it("leaves a member its whole budget after another member's storm spent its own", async () => {
    // Act: member A asks for 30 stops with a budget of 10 an hour, then member B for 4.
    const storm = await actInTarget(A, () => claimStopBudget('run-a', ids('a', 30), 10));
    const other = await actInTarget(B, () => claimStopBudget('run-b', ids('b', 4), 10));
    // Assert
    expect(storm.granted).toHaveLength(10);
    expect(other.granted).toEqual(ids('b', 4));
    expect(await actInTarget(B, () => readStopBudget(10, 'run-c'))).toMatchObject({
      usedInLastHour: 4,
      remaining: 6,
    });
    expect(await actInTarget(A, () => readStopBudget(10, 'run-c'))).toMatchObject({ remaining: 0 });
  });

  it('holds the stage-wide ceiling across accounts when two members claim at the same time', async () => {
    // Arrange: a ceiling of 12 stops an hour over all accounts; both runs read before either writes.
    withOrganizationCeiling(12);
    holdReads = { count: 2, all: latch() };
    // Act
    const [a, b] = await Promise.all([
      actInTarget(A, () => claimStopBudget('run-a', ids('a', 8), 10)),
      actInTarget(B, () => claimStopBudget('run-b', ids('b', 8), 10)),
    ]);
    // Assert: each within its own 10, and 12 between them.
    expect(a.granted.length + b.granted.length).toBe(12);
    expect([a.granted.length, b.granted.length].sort()).toEqual([4, 8]);
    const third = await actInTarget(member('444444444444'), () => claimStopBudget('run-c', ids('c', 1), 10));
    expect(third.granted).toEqual([]);
  });
});

describe("an organization's rate guard, per account", () => {
  const executor: MutatingExecutor<RunbookIntent> = {
    kind: 'ssm.start-automation',
    permissions: [],
    mutates: true,
    budgetMs: 0,
    preview: () => 'start a runbook',
    rateGuard: (intent) => ({ rule: 'restart', actionId: intent.clientToken }),
    execute: async (intent) => done(intent.kind, 'started'),
  };
  const signal = {
    account: A.account,
    correlationId: 'c-1',
    title: 't',
    links: [],
    resources: [],
  } as unknown as Signal;
  const intent = (token: string) => ({ kind: 'ssm.start-automation', clientToken: token }) as RunbookIntent;
  const config = makeConfig({ rateGuard: { maxActions: 1, windowMinutes: 60, rules: {} } });
  const run = (target: ActingTarget, token: string) =>
    actInTarget(target, () => guardedExecute(executor, intent(token), { config, signal, prior: [] }));

  it("lets a member act while another member's actions of the same rule fill their window", async () => {
    // Act
    const first = await run(A, 'a-1');
    const refused = await run(A, 'a-2');
    const other = await run(B, 'b-1');
    // Assert
    expect(first[0]).toMatchObject({ status: 'done' });
    expect(refused[0]).toMatchObject({ status: 'skipped', reason: 'rate-limited' });
    expect(other[0]).toMatchObject({ status: 'done' });
  });
});
