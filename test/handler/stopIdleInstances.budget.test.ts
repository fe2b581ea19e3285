import { DynamoDBDocumentClient, GetCommand, type GetCommandInput, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { claimStopBudget, readStopBudget } from '#shared/state/stopBudget.ts';
import { claimStops } from '#shared/state/stopRun.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';

const aws = await mockAwsClients();
// The state table answered by an in-memory table that honours the conditions the code sends, so two
// runs can be made to read the same budget before either writes.
const documents = aws.of(DynamoDBDocumentClient);
type Item = Record<string, unknown> & { id: string };
const table = new Map<string, Item>();
let readsToHold = 0;
let held: (() => void)[] = [];

function conditionalFailure(): Error {
  return Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
  });
}

async function get(input: GetCommandInput) {
  const item = table.get(String(input.Key?.id));
  const snapshot = item ? structuredClone(item) : undefined;
  // Hold the first reads until all of them have read: both runs then plan from the same state.
  if (readsToHold > 0) {
    readsToHold--;
    await new Promise<void>((resolve) => {
      held.push(resolve);
      if (readsToHold === 0) for (const release of held) release();
    });
  }
  return snapshot ? { Item: snapshot } : {};
}

function put(input: {
  Item?: Record<string, unknown>;
  ConditionExpression?: string;
  ExpressionAttributeValues?: Record<string, unknown>;
}) {
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

beforeAll(() => {
  process.env.STATE_TABLE_NAME = 'state';
  resetConfigForTests();
});

beforeEach(() => {
  documents.reset();
  table.clear();
  readsToHold = 0;
  held = [];
  documents.on(GetCommand).callsFake(get);
  documents.on(PutCommand).callsFake(put);
});

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, k) => `i-${prefix}${k}`);

describe('the rolling-hour stop budget', () => {
  it('never grants two concurrent runs more than the limit between them', async () => {
    // Arrange: two runs that both read 10 stops left and each want 6.
    readsToHold = 2;
    // Act
    const [a, b] = await Promise.all([
      claimStopBudget('run-a', ids('a', 6), 10),
      claimStopBudget('run-b', ids('b', 6), 10),
    ]);
    // Assert
    expect(a.granted.length + b.granted.length).toBe(10);
    expect([a.granted.length, b.granted.length].sort()).toEqual([4, 6]);
    expect(documents.commandCalls(PutCommand).length).toBe(3);
    expect(await readStopBudget(10, 'run-c')).toEqual({ limit: 10, usedInLastHour: 10, remaining: 0 });
  });

  it('gives a retried run its first grant back without spending the budget again', async () => {
    // Arrange
    const first = await claimStopBudget('run-a', ids('a', 4), 5);
    // Act
    const again = await claimStopBudget('run-a', ids('a', 4), 5);
    const other = await claimStopBudget('run-b', ids('b', 4), 5);
    // Assert
    expect(again.granted).toEqual(first.granted);
    expect(other.granted).toEqual(['i-b0']);
  });

  it('frees the stops of claims older than an hour', async () => {
    // Arrange
    const hourAgo = Date.now() - 3_600_001;
    await claimStopBudget('run-old', ids('a', 10), 10, hourAgo);
    // Act
    const grant = await claimStopBudget('run-new', ids('b', 3), 10);
    // Assert
    expect(grant.granted).toEqual(ids('b', 3));
    expect(grant.usedInLastHour).toBe(0);
  });

  it('lets a retried run finish only its recorded stop list, spending nothing', async () => {
    // Arrange: the first attempt was granted 2 of 3 and recorded them.
    const first = await claimStops('run-a', ids('a', 3), 2);
    // Act: the retry re-plans other instances (the first two are no longer running).
    const retry = await claimStops('run-a', ids('z', 2), 2);
    // Assert
    expect([...first.claimed]).toEqual(['i-a0', 'i-a1']);
    expect(first.overLimit).toEqual(['i-a2']);
    expect([...retry.claimed]).toEqual(['i-a0', 'i-a1']);
    expect(retry.overLimit).toEqual([]);
    expect(await readStopBudget(2, 'run-b')).toMatchObject({ usedInLastHour: 2 });
  });

  it('leaves a decision another delivery recorded to that delivery: stops nothing, spends nothing', async () => {
    // Arrange: delivery A of one cost anomaly update decided its stops
    const first = await claimStops('cost-anomaly#a-1#425000', ids('a', 2), 10, 'delivery-a');
    // Act: delivery B of the same update, and A's own retry
    const other = await claimStops('cost-anomaly#a-1#425000', ids('a', 2), 10, 'delivery-b');
    const retry = await claimStops('cost-anomaly#a-1#425000', ids('a', 2), 10, 'delivery-a');
    // Assert
    expect([...first.claimed]).toEqual(['i-a0', 'i-a1']);
    expect(other).toMatchObject({ claimed: new Set(), overLimit: [], decidedBy: 'delivery-a' });
    expect([...retry.claimed]).toEqual(['i-a0', 'i-a1']);
    expect(await readStopBudget(10, 'run-c')).toMatchObject({ usedInLastHour: 2 });
  });
});
