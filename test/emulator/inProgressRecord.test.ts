import type { Context } from 'aws-lambda';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, withUnreachableTopic } from '../../tools/local/emulator.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';
import { costAnomaly } from '../support/events/index.ts';

/**
 * The idempotency record that says "this delivery is being handled" (Powertools' INPROGRESS record),
 * against moto, on a 300 s function (onCostAnomaly). Lambda retries a failed asynchronous delivery a
 * minute later and again two minutes after that, each time with a new request id and the same event
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): an in-progress
 * record left by a delivery that is no longer running must not outlive those retries, and one that
 * a delivery's own lost write left behind must not refuse that delivery.
 */

let handler: typeof import('#functions/onCostAnomaly/handler.ts').handler;

const STACK = 'ops-autopilot-inprogress';
const FUNCTION = 'ops-autopilot-dev-onCostAnomaly';
const TIMEOUT_MS = 300_000;

/** What the state table does to the next calls: lose the answer of a write it applied, or not answer. */
const faults = { loseInProgressAnswers: 0, dropDeletes: false, dropRenewals: false, lostAnswers: 0 };
/** State-table calls seen, by command and whether they wrote the in-progress record or renewed it. */
let calls: { command: string; status?: string | undefined }[] = [];
/** Told the lease end (epoch ms) of each renewal the table applies; set by a test that waits for one. */
let onRenewal: ((until: number) => void) | undefined;
/** Holds SNS Publish until released (then fails it, if asked); set by a test that catches a delivery while it pages. */
let publishGate: { reached: () => void; released: Promise<void>; fail?: boolean } | undefined;
/** Gates for the next publishes, one each, before publishGate. */
let publishGates: NonNullable<typeof publishGate>[] = [];

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onCostAnomaly/handler.ts'));
  await sendStateTableCallsOneAtATime();
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  // Below the SDK's retry middleware (finalizeRequest): a lost answer here is retried by the SDK, as a
  // timeout or a reset connection after DynamoDB applied the write would be.
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const input = args.input as {
        Item?: Record<string, { S?: string }>;
        ExpressionAttributeValues?: Record<string, { N?: string }>;
      };
      const status = input.Item?.status?.S;
      calls.push({ command, status });
      const renewal = input.ExpressionAttributeValues?.[':lease_until']?.N;
      if (
        (command === 'DeleteItemCommand' && faults.dropDeletes) ||
        (command === 'UpdateItemCommand' && renewal && faults.dropRenewals)
      ) {
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      }
      const output = await next(args);
      if (command === 'PutItemCommand' && status === 'INPROGRESS' && faults.loseInProgressAnswers > 0) {
        faults.loseInProgressAnswers--;
        faults.lostAnswers++;
        throw Object.assign(new Error('the answer to PutItem was lost'), { name: 'TimeoutError' });
      }
      if (command === 'UpdateItemCommand' && renewal) onRenewal?.(Number(renewal));
      return output;
    },
    { step: 'deserialize', name: 'stateTableFaultsForTests' },
  );
  const { sns } = await import('#shared/aws/sns.ts');
  sns.middlewareStack.add(
    (next) => async (args) => {
      const gate = publishGates.shift() ?? publishGate;
      if (gate) {
        gate.reached();
        await gate.released;
        if (gate.fail)
          throw Object.assign(new Error('SNS is unreachable'), { name: 'InternalErrorException' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'holdPublishForTests' },
  );
});

beforeEach(async () => {
  Object.assign(faults, {
    loseInProgressAnswers: 0,
    dropDeletes: false,
    dropRenewals: false,
    lostAnswers: 0,
  });
  publishGates = [];
  calls = [];
  onRenewal = undefined;
  publishGate = undefined;
});

afterEach(() => {
  vi.useRealTimers();
});

/** One invocation of the 300 s function: a new request id, and the deadline Lambda gives it now. */
function invocationContext(): Context {
  const deadline = Date.now() + TIMEOUT_MS;
  return { ...makeContext(FUNCTION), getRemainingTimeInMillis: () => deadline - Date.now() };
}

const invoke = (event: unknown) =>
  handler(structuredClone(event) as never, invocationContext()) as Promise<PipelineResult>;
const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

/** The documented anomaly as one EventBridge event (its own event id). */
const anomaly = () => costAnomaly('anomaly-detected', { id: crypto.randomUUID() });

/** A gate for one publish: `reached` once the delivery is inside it, `release` lets it go on (or fail). */
function gate(fail = false) {
  let reached!: () => void;
  let release!: () => void;
  const inside = new Promise<void>((r) => {
    reached = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  return { hold: { reached, released, fail }, inside, release };
}

/** Moves the clock the idempotency layer and DynamoDB conditions read, as the wait between retries does. */
function clockForward(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + ms);
}

/**
 * Lambda's asynchronous retries of a failed delivery: a minute after the failure, then two minutes
 * after that, each a new invocation. Stops at the first that succeeds; the failures, in order.
 */
async function lambdaRetries(event: unknown): Promise<Error[]> {
  const failures: Error[] = [];
  for (const waitMs of [61_000, 121_000]) {
    clockForward(waitMs);
    const failure = await failureOf(invoke(event));
    if (!failure) break;
    failures.push(failure);
  }
  return failures;
}

describe('the in-progress idempotency record of a 300 s function, against the emulator', () => {
  it('pages once when the answer to its own in-progress write is lost and the SDK retries the write', async () => {
    // Arrange: DynamoDB applies the in-progress record; its answer never reaches the function.
    const event = anomaly();
    faults.loseInProgressAnswers = 1;
    // Act
    const failure = await failureOf(invoke(event));
    const repeat = await failureOf(invoke(event));
    // Assert
    expect(faults.lostAnswers).toBe(1);
    expect(failure).toBeUndefined();
    expect(repeat).toBeUndefined();
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.subject).toContain('[WARNING] cost.anomaly:');
  });

  it("pages within Lambda's retries when the delivery before them failed without releasing its record", async () => {
    // Arrange: the first invocation fails (its page cannot be published) and cannot delete its
    // in-progress record either (the connection to DynamoDB is reset): the record stays INPROGRESS.
    const event = anomaly();
    faults.dropDeletes = true;
    const first = await withUnreachableTopic(() => failureOf(invoke(event)));
    faults.dropDeletes = false;
    // Act
    const retryFailures = await lambdaRetries(event);
    // Assert
    expect(first).toBeInstanceOf(Error);
    expect(calls.filter((c) => c.command === 'DeleteItemCommand').length).toBeGreaterThan(0);
    expect(retryFailures.map((f) => f.name)).toEqual([]);
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
  });

  it('refuses a duplicate delivered while the first is still paging, and pages once', async () => {
    // Arrange: the first delivery is held inside its page until the duplicate has been answered.
    const event = anomaly();
    let reached!: () => void;
    const paging = new Promise<void>((r) => {
      reached = r;
    });
    let release!: () => void;
    publishGate = { reached, released: new Promise<void>((r) => (release = r)) };
    const first = invoke(event);
    await paging;
    // Act
    const duplicate = await failureOf(invoke(event));
    publishGate = undefined;
    release();
    await first;
    // Assert
    expect(duplicate?.name).toBe('IdempotencyAlreadyInProgressError');
    expect(await stack.readPages()).toHaveLength(1);
  });

  it('refuses a duplicate delivered more than a minute into a first delivery that is still running', async () => {
    // Arrange: the first delivery is held inside its page while the clock moves past a lease; it is
    // alive, so it keeps its record (the renewal after the jump is awaited).
    const event = anomaly();
    let reached!: () => void;
    const paging = new Promise<void>((r) => {
      reached = r;
    });
    let release!: () => void;
    publishGate = { reached, released: new Promise<void>((r) => (release = r)) };
    const first = invoke(event);
    await paging;
    clockForward(61_000);
    const jumpedAt = Date.now();
    await new Promise<void>((r) => {
      onRenewal = (until) => {
        if (until > jumpedAt) r();
      };
    });
    // Act
    const duplicate = await failureOf(invoke(event));
    publishGate = undefined;
    release();
    const firstFailure = await failureOf(first);
    // Assert
    expect(duplicate?.name).toBe('IdempotencyAlreadyInProgressError');
    expect(firstFailure).toBeUndefined();
    expect(await stack.readPages()).toHaveLength(1);
  });

  it('keeps the record of a delivery that took over from a stalled one: the stalled one, failing, deletes nothing', async () => {
    // Arrange: the first delivery cannot renew its lease and is held inside its page past the lease; a
    // retry takes the event over and is held inside its own page.
    const event = anomaly();
    faults.dropRenewals = true;
    const stalled = gate(true);
    const takeover = gate();
    publishGates = [stalled.hold, takeover.hold];
    const first = failureOf(invoke(event));
    await stalled.inside;
    clockForward(61_000);
    const second = failureOf(invoke(event));
    await takeover.inside;
    // Act: the first fails (its page is not published) and releases what it holds; then a third copy.
    stalled.release();
    const firstFailure = await first;
    const third = await failureOf(invoke(event));
    takeover.release();
    const secondFailure = await second;
    // Assert
    expect(firstFailure?.name).toBe('ActionFailedError');
    expect(third?.name).toBe('IdempotencyAlreadyInProgressError');
    expect(secondFailure).toBeUndefined();
    expect(await stack.readPages()).toHaveLength(1);
  });
});
