import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendStateTableCallsOneAtATime } from '../../tools/local/emulator.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';

// Paging races against moto. moto handles concurrent requests without per-item atomicity, so this
// file's state-table calls go to it one at a time, as DynamoDB applies writes to one item; the
// interleavings between the calls of different deliveries are what the tests control.
const ssm = mockClient(SSMClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

const STACK = 'ops-autopilot-paging';

/** A state-table call as the hooks see it. */
interface TableCall {
  command: string;
  key: string;
  updateExpression: string;
  /** Set on gather's read of the incident's last OK; the paging reads fetch the whole record. */
  projection: string;
}
type Hook = (call: TableCall, error?: unknown) => Promise<void> | void;
/** Runs before a state-table call is sent, and after it answers; outside the one-at-a-time lock. */
let beforeCall: Hook | undefined;
let afterCall: Hook | undefined;
/** Waits before each state-table call and each publish, to spread deliveries over many orders. */
let jitter: (() => number) | undefined;
/** Runs before a publish reaches SNS. */
let beforePublish: (() => Promise<void>) | undefined;
/** Runs after a publish reached SNS, below the SDK's retries: may throw to lose the response. */
let afterPublish: (() => void) | undefined;

/** Only the jitter waits: they vary the interleavings of the randomized test, they order nothing. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  await sendStateTableCallsOneAtATime();
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  const { sns } = await import('#shared/aws/sns.ts');
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: unknown; UpdateExpression?: string; ProjectionExpression?: string };
      const call: TableCall = {
        command: context.commandName ?? '',
        // Marshalled or not, depending on where the document client stands in the stack.
        key: JSON.stringify(input.Key ?? {}),
        updateExpression: input.UpdateExpression ?? '',
        projection: input.ProjectionExpression ?? '',
      };
      if (jitter) await sleep(jitter());
      await beforeCall?.(call);
      try {
        // Sent one at a time further down the stack (sendStateTableCallsOneAtATime), below these hooks.
        const result = await next(args);
        await afterCall?.(call);
        return result;
      } catch (error) {
        await afterCall?.(call, error);
        throw error;
      }
    },
    { step: 'initialize', name: 'stateTableHooksForTests' },
  );
  sns.middlewareStack.add(
    (next) => async (args) => {
      if (jitter) await sleep(jitter());
      await beforePublish?.();
      return next(args);
    },
    { step: 'initialize', name: 'beforePublishForTests' },
  );
  // Below the SDK's retries (they run at high priority in this step), so an error thrown here is
  // retried like a lost response.
  sns.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      afterPublish?.();
      return result;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'afterPublishForTests' },
  );
});

beforeEach(async () => {
  beforeCall = undefined;
  afterCall = undefined;
  jitter = undefined;
  beforePublish = undefined;
  afterPublish = undefined;
  ssm.reset();
  killSwitchFromEmulator(ssm);
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'exec-1' });
});

const invoke = (event: unknown) => handler(event as never, makeContext());
const at = (hhmm: string) => `2025-06-21T${hhmm}:00.000+0000`;
const alarmAt = (id: string, hhmm: string, alarmName = 'web-cpu-high') =>
  makeAlarmEvent({ id, alarmName, timestamp: at(hhmm) });
const okAt = (id: string, hhmm: string, alarmName = 'web-cpu-high') =>
  makeAlarmEvent({ id, alarmName, state: 'OK', timestamp: at(hhmm) });

/** A promise and the function that settles it. */
function signal() {
  let fire: () => void = () => undefined;
  const fired = new Promise<void>((r) => {
    fire = r;
  });
  return { fire, fired };
}

/** Keys start with the owning function's name: `<function>#page#<incident>`. */
const isIncidentRecord = (c: TableCall) => c.key.includes('#page#');
/** A paging read of the whole record (GetItem, through the document client or not), not gather's. */
const isRead = (c: TableCall) => /^Get(Item)?Command$/.test(c.command) && c.projection === '';
const isResolveClaim = (c: TableCall) => c.updateExpression === 'SET resolvedBy = :cid, okAt = :ok';
const isMarkPageSent = (c: TableCall) => c.updateExpression.startsWith('SET pageSentAt');
const isOpen = (c: TableCall) => c.updateExpression.startsWith('SET windowEndsAt = :end');
const isNoteOk = (c: TableCall) => c.updateExpression.startsWith('SET okAt = :ok');

/**
 * What Lambda does with a failed delivery: try it again until it succeeds. The retry's moment is the
 * failed invocation's end (it has released its idempotency record when its promise rejects); how long
 * Lambda waits after that orders nothing here, the hooks do.
 */
async function deliver(event: unknown): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await invoke(structuredClone(event));
      return;
    } catch (error) {
      if (attempt >= 8) throw error;
    }
  }
}

describe('paging races against the emulator', () => {
  it('resolves an OK whose claim fails just before its page is marked sent, and pages the next ALARM', async () => {
    // Arrange: the page is held at SNS; the OK's claim fails (not sent yet), then the page goes out
    // and is marked sent before the OK reads the record.
    const publishing = signal();
    const release = signal();
    const marked = signal();
    beforePublish = async () => {
      publishing.fire();
      await release.fired;
    };
    let held = false;
    afterCall = async (call, error) => {
      if (isMarkPageSent(call) && !error) marked.fire();
      if (isResolveClaim(call) && error && !held) {
        held = true;
        release.fire();
        await marked.fired;
      }
    };
    const paging = invoke(alarmAt('a-1', '02:00'));
    await publishing.fired;
    // Act
    const ok = await invoke(okAt('ok-1', '02:05'));
    await paging;
    beforePublish = undefined;
    const next = await invoke(alarmAt('a-2', '04:00'));
    // Assert
    expect(held).toBe(true);
    expect(ok).toMatchObject({ outcomes: [expect.objectContaining({ kind: 'sns.page', status: 'done' })] });
    expect(next).toMatchObject({
      outcomes: expect.arrayContaining([expect.objectContaining({ kind: 'sns.page', status: 'done' })]),
    });
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual([
      'incident',
      'resolve',
      'incident',
    ]);
  });

  it('resolves an OK that found no incident when an earlier ALARM opened one before the OK was recorded', async () => {
    // Arrange: the OK (03:00) reads an empty record; the ALARM (02:00) opens its window before the OK
    // records its time.
    const opened = signal();
    const okHeld = signal();
    afterCall = (call, error) => {
      if (isOpen(call) && !error) opened.fire();
    };
    let held = false;
    beforeCall = async (call) => {
      if (isNoteOk(call) && !held) {
        held = true;
        okHeld.fire();
        await opened.fired;
      }
    };
    // Act
    const ok = deliver(okAt('ok-1', '03:00'));
    await okHeld.fired;
    await deliver(alarmAt('a-1', '02:00'));
    await ok;
    const next = await invoke(alarmAt('a-2', '04:00'));
    // Assert
    expect(held).toBe(true);
    expect(next).toMatchObject({
      outcomes: expect.arrayContaining([expect.objectContaining({ kind: 'sns.page', status: 'done' })]),
    });
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual([
      'incident',
      'resolve',
      'incident',
    ]);
  });

  it('pages an ALARM that came after a resolve notice sent while it was being counted as a repeat', async () => {
    // Arrange: incident 02:00 paged. The ALARM of 04:00 finds the window open and reads the record;
    // before it counts itself as a repeat, the OK of 03:00 resolves the incident.
    await invoke(alarmAt('a-1', '02:00'));
    const read = signal();
    const resolved = signal();
    let held = false;
    afterCall = async (call) => {
      if (isRead(call) && isIncidentRecord(call) && !held) {
        held = true;
        read.fire();
        await resolved.fired;
      }
    };
    // Act
    const later = invoke(alarmAt('a-2', '04:00'));
    await read.fired;
    const ok = await invoke(okAt('ok-1', '03:00'));
    resolved.fire();
    const result = await later;
    // Assert
    expect(ok).toMatchObject({ outcomes: [expect.objectContaining({ status: 'done' })] });
    expect(result).toMatchObject({
      outcomes: expect.arrayContaining([expect.objectContaining({ kind: 'sns.page', status: 'done' })]),
    });
    const pages = await stack.readPages();
    expect(pages.map((p) => p.attributes.notice)).toEqual(['incident', 'resolve', 'incident']);
    expect(pages[2]?.body).toContain('It fired again after its resolve notice');
  });

  it('never loses the resolve notice of a concurrent ALARM and OK, in any of many orders', async () => {
    // Arrange: a fixed pseudo-random sequence of waits before every table call and publish.
    let seed = 7;
    jitter = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % 40;
    };
    const runs = 12;
    // Act: each run is its own alarm; the ALARM (02:00) and its OK (03:00) are delivered at once, then
    // a new ALARM (04:00) once both are done.
    for (let run = 0; run < runs; run++) {
      const name = `race-${run}`;
      await Promise.all([
        deliver(alarmAt(`a-${run}`, '02:00', name)),
        deliver(okAt(`ok-${run}`, '03:00', name)),
      ]);
      await deliver(alarmAt(`b-${run}`, '04:00', name));
    }
    // Assert: per alarm, either the OK came first (the late ALARM is not paged) or the page has its
    // resolve notice; either way the new ALARM pages.
    const pages = await stack.readPages();
    for (let run = 0; run < runs; run++) {
      const notices = pages
        .filter((p) => p.subject.includes(`race-${run} is`))
        .map((p) => p.attributes.notice);
      expect([['incident', 'resolve', 'incident'], ['incident']]).toContainEqual(notices);
    }
  }, 60_000);
});

describe('page ids against the emulator', () => {
  it('gives both messages of a publish whose response was lost the same page id', async () => {
    // Arrange: SNS takes the first publish but its answer never arrives; the SDK publishes again.
    let lost = false;
    afterPublish = () => {
      if (lost) return;
      lost = true;
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    };
    // Act
    const result = await invoke(alarmAt('a-1', '02:00'));
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(2);
    const [first, second] = pages;
    expect(first?.attributes.pageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second?.attributes.pageId).toBe(first?.attributes.pageId);
    expect(first?.body).toContain(`Page id: ${first?.attributes.pageId}`);
    expect(second?.body).toBe(first?.body);
    expect(result).toMatchObject({
      outcomes: expect.arrayContaining([
        expect.objectContaining({
          kind: 'sns.page',
          refs: expect.objectContaining({ pageId: first?.attributes.pageId }),
        }),
      ]),
    });
  });

  it('keeps the page id when Lambda retries a delivery whose publish did reach SNS, gives a re-fire a new one, and ties each resolve to its page', async () => {
    // Arrange: the first publish reaches SNS, but the delivery fails before it learns so (no SDK
    // retry for this error); Lambda retries the delivery, which publishes again.
    let lost = false;
    afterPublish = () => {
      if (lost) return;
      lost = true;
      throw Object.assign(new Error('connection closed before the response'), { name: 'ResponseLost' });
    };
    // Act
    await deliver(alarmAt('a-1', '02:00'));
    await invoke(okAt('ok-1', '03:00'));
    await invoke(alarmAt('a-2', '04:00'));
    await invoke(okAt('ok-2', '05:00'));
    // Assert
    const pages = await stack.readPages();
    expect(pages.map((p) => p.attributes.notice)).toEqual([
      'incident',
      'incident',
      'resolve',
      'incident',
      'resolve',
    ]);
    const [first, retried, resolve1, second, resolve2] = pages.map((p) => p.attributes.pageId);
    expect(retried).toBe(first);
    expect(new Set([first, resolve1, second, resolve2]).size).toBe(4);
    // Each resolve notice names the page it resolves.
    expect(pages[2]?.attributes.resolvesPageId).toBe(first);
    expect(pages[4]?.attributes.resolvesPageId).toBe(second);
    for (const p of pages) expect(p.body).toContain(`Page id: ${p.attributes.pageId}`);
  });
});

describe('state timestamps from before events were bounded', () => {
  it('do not silence an alarm: a stored OK stamped 2099 neither marks a new ALARM stale nor blocks its resolve', async () => {
    // Arrange: the incident record holds an OK (and an ALARM) stamped 2099, as a crafted event once could write
    const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { stateKey } = await import('#shared/state/table.ts');
    const alarm = alarmAt('a-now', '02:00');
    const y2099 = Date.UTC(2099, 0, 1);
    await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(
      new PutCommand({
        TableName: stack.tableName,
        Item: { id: stateKey('page', alarm.resources[0] as string), okAt: y2099, alarmAt: y2099 },
      }),
    );
    // Act
    const paged = await invoke(alarm);
    const resolved = await invoke(okAt('ok-now', '03:00'));
    // Assert
    expect(paged).toMatchObject({
      outcomes: [expect.objectContaining({ kind: 'sns.page', status: 'done' })],
    });
    expect(resolved).toMatchObject({
      outcomes: [expect.objectContaining({ kind: 'sns.page', status: 'done' })],
    });
    const pages = await stack.readPages();
    expect(pages.map((p) => p.attributes.notice)).toEqual(['incident', 'resolve']);
  });
});
