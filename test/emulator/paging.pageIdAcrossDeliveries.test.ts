import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';
import { alarmStateChange } from '../support/events/index.ts';

// Found by an adversarial review (issue 6 item 12).
// A page id is derived from the delivery that opened the incident. When a
// publish reaches SNS but the delivery fails (response lost), the window is released; another delivery
// of the same incident (a Metrics Insights alarm's next contributor) then opens it again and pages under
// a new id. Subscribers get two pages for one incident that no dedup key can merge, and the resolve
// notice names only the second (the first PagerDuty incident is never resolved).

let handler: typeof import('#functions/onAlarm/handler.ts').handler;
/** Runs after a publish reached SNS: may throw to lose the response. */
let afterPublish: (() => void) | undefined;
const STACK = 'ops-autopilot-page-ids';

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  const { sns } = await import('#shared/aws/sns.ts');
  sns.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      afterPublish?.();
      return result;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'testAfterPublish' },
  );
});

beforeEach(async () => {
  afterPublish = undefined;
});

const invoke = (event: unknown) => handler(event as never, makeContext());

const contributor = (id: string, contributorId: string, table: string, state: 'ALARM' | 'OK' = 'ALARM') =>
  alarmStateChange('multi-time-series-contributor-alarm', {
    id,
    contributor: { id: contributorId, attributes: { TableName: table } },
    state,
  });

const alarmLevelOk = (id: string) =>
  alarmStateChange('multi-time-series-contributor-alarm', {
    id,
    contributor: null,
    state: 'OK',
    stateTimestamp: '2025-06-19T08:00:00.000+0000',
  });

describe('page ids of one incident across deliveries', () => {
  it('gives every incident page of one incident the same page id, and the resolve names it', async () => {
    // Arrange: contributor A's publish reaches SNS, but its response is lost and A fails.
    let lost = false;
    afterPublish = () => {
      if (lost) return;
      lost = true;
      throw Object.assign(new Error('connection closed before the response'), { name: 'ResponseLost' });
    };
    const a = contributor('delivery-a', 'series-a', 'payments-ledger');
    const first = await invoke(structuredClone(a)).catch((e: unknown) => e as Error);
    expect((first as Error).name).toBe('ActionFailedError');

    // Act: contributor B of the same alarm arrives before Lambda retries A; then A's retry; then OK.
    await invoke(contributor('delivery-b', 'series-b', 'orders'));
    await invoke(structuredClone(a));
    await invoke(alarmLevelOk('delivery-ok'));

    // Assert
    const pages = await stack.readPages();
    const incidentIds = pages
      .filter((p) => p.attributes.notice === 'incident')
      .map((p) => p.attributes.pageId);
    const resolves = pages.filter((p) => p.attributes.notice === 'resolve');
    expect(incidentIds.length).toBeGreaterThanOrEqual(1);
    expect(new Set(incidentIds).size).toBe(1);
    expect(resolves.map((p) => p.attributes.resolvesPageId)).toEqual([incidentIds[0]]);
  });
});
