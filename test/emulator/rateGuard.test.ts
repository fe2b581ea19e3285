import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { config } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { rateLimitFor } from '#shared/runtime/rateGuardSettings.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { launchInstances, mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';
import { anotherDeliveryOf } from '../support/events/index.ts';

/**
 * The rate guard against the emulator: onAlarm's rule web-cpu (dev stage) may act on N incidents per
 * window; the next one is refused and pages that the guard tripped, once; every alarm still pages.
 */

// moto has no SSM Automation: the start is mocked, everything else is moto.
const ssm = mockClient(SSMClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;
let instanceId: string;

const STACK = 'ops-autopilot-rate-guard';
const RULE = 'web-cpu';
const TRIPPED = '[HIGH] ops.rate-guard: rate guard tripped for web-cpu';
const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const alarm = (name: string, id?: string) =>
  makeAlarmEvent({ alarmName: name, dimensions: { InstanceId: instanceId }, ...(id ? { id } : {}) });
const starts = () => ssm.commandCalls(StartAutomationExecutionCommand).length;
const runbookOutcome = (r: PipelineResult) => r.outcomes.find((o) => o.kind === 'ssm.start-automation');
/** Reads (and takes) the pages delivered so far: the guard's own. */
const tripPages = async () => (await stack.readPages()).filter((p) => p.subject === TRIPPED);

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
});

beforeEach(async () => {
  mockRunbookStarts(ssm, 'exec-1');
  instanceId = (await launchInstances(1, { 'ops:auto-remediate': 'true' }))[0] as string;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the rate guard against the emulator', () => {
  it('acts on N incidents of a rule per window, refuses the next, pages the trip once, and keeps paging', async () => {
    // Arrange
    const { maxActions } = rateLimitFor(config().rateGuard, RULE);
    // One window for the whole test, whenever it runs: no window boundary between the deliveries.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-22T10:05:00Z') });
    // Act
    const results: PipelineResult[] = [];
    for (let n = 1; n <= maxActions + 2; n++) results.push(await invoke(alarm(`web-cpu-${n}`)));
    // Assert
    expect(starts()).toBe(maxActions);
    const refused = results.slice(maxActions).map(runbookOutcome);
    expect(refused).toEqual([
      expect.objectContaining({ status: 'skipped', reason: 'rate-limited' }),
      expect.objectContaining({ status: 'skipped', reason: 'rate-limited' }),
    ]);
    expect(refused[0]?.detail).toContain(
      `the rate guard allows ${maxActions} action(s) of web-cpu per 60 min, all used until 2026-11-22T11:00:00.000Z`,
    );
    const pages = await stack.readPages();
    // Every alarm paged as usual, plus one page about the guard.
    expect(pages.filter((p) => p.subject.startsWith('[HIGH] alarm.state-change'))).toHaveLength(
      maxActions + 2,
    );
    const trips = pages.filter((p) => p.subject === TRIPPED);
    expect(trips).toHaveLength(1);
    expect(trips[0]?.body).toContain('further actions of web-cpu are refused until 2026-11-22T11:00:00.000Z');
    const refusedPage = pages.find((p) => p.subject.includes(`web-cpu-${maxActions + 1} `));
    expect(refusedPage?.body).toContain('SKIPPED (rate-limited) ssm.start-automation');
  });

  it('does not count a retried or duplicated delivery of an action again', async () => {
    // Arrange
    const { maxActions } = rateLimitFor(config().rateGuard, RULE);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-22T10:05:00Z') });
    const first = alarm('web-cpu-1');
    await invoke(first);
    // Act: the same transition delivered again (a new event id, as EventBridge may) before the others.
    const duplicate = await invoke(anotherDeliveryOf(first));
    const rest: PipelineResult[] = [];
    for (let n = 2; n <= maxActions; n++) rest.push(await invoke(alarm(`web-cpu-${n}`)));
    // Assert: the duplicate took no slot of its own, so the N-th incident still acts.
    expect(runbookOutcome(duplicate)?.reason).not.toBe('rate-limited');
    expect(rest.map((r) => runbookOutcome(r)?.status)).toEqual(Array(maxActions - 1).fill('done'));
    expect(await tripPages()).toHaveLength(0);
  });

  it('acts again in the next window', async () => {
    // Arrange
    const { maxActions, windowMinutes } = rateLimitFor(config().rateGuard, RULE);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-22T10:05:00Z') });
    for (let n = 1; n <= maxActions + 1; n++) await invoke(alarm(`web-cpu-${n}`));
    // Act
    vi.setSystemTime(new Date(Date.parse('2026-11-22T10:05:00Z') + windowMinutes * 60_000));
    const next = await invoke(alarm('web-cpu-next-window'));
    // Assert
    expect(runbookOutcome(next)).toMatchObject({ status: 'done' });
    expect(starts()).toBe(maxActions + 1);
  });
});
