import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { countStateTableCalls, type StateCallCounter } from '../../tools/local/stateCalls.ts';
import { launchInstances, mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';

// State-table calls per typical delivery, counted as DynamoDB receives them (moto's state table). moto
// has no SSM Automation: StartAutomationExecution is mocked.
const ssm = mockClient(SSMClient);
let calls: StateCallCounter;
let onAlarm: typeof import('#functions/onAlarm/handler.ts').handler;
let onRunbookResult: typeof import('#functions/onRunbookResult/handler.ts').handler;
let instanceId: string;
/** The execution StartAutomationExecution answers with: the sample result event's. */
const EXECUTION = '333ba70b-2333-48db-b17e-a5e69c6f4d1c';

const STACK = 'ops-autopilot-calls';

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: onRunbookResult } = await import('#functions/onRunbookResult/handler.ts'));
  calls = await countStateTableCalls();
});

beforeEach(async () => {
  mockRunbookStarts(ssm, EXECUTION);
  instanceId = (await launchInstances(1, { 'ops:auto-remediate': 'true' }))[0] as string;
  calls.reset();
});

const alarm = (state: 'ALARM' | 'OK') => makeAlarmEvent({ state, dimensions: { InstanceId: instanceId } });
const deliver = async (event: unknown) => (await onAlarm(event as never, makeContext())) as PipelineResult;

/** The calls that wrote any record whose id contains `part`. */
const writing = (part: string) => calls.calls().filter((c) => c.ids.some((id) => id.includes(part)));

describe('calls per delivery: the delivery tail', () => {
  it('onAlarm OK: writes its action log and completes the delivery in one state-table call', async () => {
    // Arrange: the incident paged and its runbook started.
    await deliver(alarm('ALARM'));
    calls.reset();
    // Act
    const result = await deliver(alarm('OK'));
    // Assert: the resolve notice went out and the action log holds the decision, written in the same
    // round trip as the delivery's idempotency completion (the delivery's first call put that record).
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual(['sns.page done']);
    expect(await stack.readPages()).toHaveLength(2);
    const idempotencyRecord = calls.calls()[0]?.ids[0] ?? '';
    const logWrites = writing('#action#');
    expect(logWrites).toHaveLength(1);
    expect(logWrites[0]?.ids).toContain(idempotencyRecord);
    expect(calls.calls().filter((c) => c.ids.includes(idempotencyRecord))).toHaveLength(2);
    expect(calls.byOperation().BatchWriteItem).toBeUndefined();
  });

  it('onAlarm OK: a repeated delivery is answered from the completed record, and acts on nothing', async () => {
    // Arrange
    await deliver(alarm('ALARM'));
    const ok = alarm('OK');
    const first = await deliver(ok);
    calls.reset();
    // Act
    const repeat = await deliver(ok);
    // Assert: the stored result, written with the action log, is the answer; no second notice.
    expect(repeat).toEqual(first);
    expect(await stack.readPages()).toHaveLength(2);
    expect(writing('#action#')).toHaveLength(0);
  });
});

describe('calls per delivery: onAlarm first ALARM with a runbook', () => {
  it('claims the rate guard slot in the runbook start transaction', async () => {
    // Act
    const result = await deliver(alarm('ALARM'));
    // Assert: started and paged; one round trip wrote the rate guard slot and the start's claim.
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual([
      'ssm.start-automation done',
      'sns.page done',
    ]);
    const rateWrites = writing('#rate-guard#');
    expect(rateWrites).toHaveLength(1);
    expect(rateWrites[0]?.operation).toBe('TransactWriteItems');
    expect(rateWrites[0]?.ids.some((id) => id.includes('#runbook-starts#'))).toBe(true);
  });
});

describe('calls per delivery: onAlarm first ALARM with a runbook, at its floor', () => {
  it('makes five state-table calls: delivery, start claim, page claim, sent mark with the execution record, tail', async () => {
    // Act
    const result = await deliver(alarm('ALARM'));
    // Assert: started and paged, in the five round trips the work needs.
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual([
      'ssm.start-automation done',
      'sns.page done',
    ]);
    expect(calls.calls().map((c) => c.operation)).toEqual([
      'PutItem',
      'TransactWriteItems',
      'UpdateItem',
      'TransactWriteItems',
      'TransactWriteItems',
    ]);
    // The execution record is written once, in the round trip that marks the page sent: with its link.
    const recordWrites = writing('#shared#automation#');
    expect(recordWrites).toHaveLength(1);
    expect(recordWrites[0]?.ids.some((id) => id.includes('#page#'))).toBe(true);
    const [record] = (await stack.scanTable()).filter((i) => String(i.id).includes('#shared#automation#'));
    const pageId = result.outcomes.find((o) => o.kind === 'sns.page')?.refs?.pageId;
    expect(record).toMatchObject({ executionId: EXECUTION, pageId, severity: 'high', rule: 'web-cpu' });
  });
});

describe('calls per delivery: onRunbookResult escalation, at its floor', () => {
  it('reads the execution record with the claim of its result: no read before it', async () => {
    // Arrange: onAlarm started the execution and paged.
    await deliver(alarm('ALARM'));
    calls.reset();
    // Act
    const result = (await onRunbookResult(
      loadFixture('onRunbookResult/execution-failed.json') as never,
      makeContext(),
    )) as PipelineResult;
    // Assert: escalated naming the alarm, in the delivery, the claim, the sent mark and the tail.
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual(['sns.page done']);
    const pages = await stack.readPages();
    expect(pages.at(-1)?.subject).toContain('Automation did not fix');
    expect(calls.calls().map((c) => c.operation)).toEqual([
      'PutItem',
      'UpdateItem',
      'UpdateItem',
      'TransactWriteItems',
    ]);
  });
});
