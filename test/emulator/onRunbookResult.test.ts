import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResultStatus } from '#functions/onRunbookResult/schema.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, setDryRun } from '../../tools/local/emulator.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import type { DeliveredPage } from '../../tools/local/localStack.ts';
import { launchInstances, mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';
import { automationExecutionStatusChange } from '../support/events/index.ts';

// moto has no SSM Automation: StartAutomationExecution is mocked; the state table, the instance, the
// topic and the queue subscribed to it are moto's.
const ssm = mockClient(SSMClient);
let onAlarm: typeof import('#functions/onAlarm/handler.ts').handler;
let onRunbookResult: typeof import('#functions/onRunbookResult/handler.ts').handler;
let instanceId: string;

const STACK = 'ops-autopilot-runbook-result';
const EXECUTIONS = [
  '333ba70b-2333-48db-b17e-a5e69c6f4d1c',
  '4a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  '5b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e',
  '6c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f',
] as const;
const [EXECUTION] = EXECUTIONS;

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: onRunbookResult } = await import('#functions/onRunbookResult/handler.ts'));
  // Concurrent deliveries race on the execution record: each write atomic, as in DynamoDB.
  await sendStateTableCallsOneAtATime();
});

beforeEach(async () => {
  mockRunbookStarts(ssm, EXECUTION);
  instanceId = (await launchInstances(1, { 'ops:auto-remediate': 'true' }))[0] as string;
});

/** onAlarm handles an ALARM of `alarmName` (rule web-cpu: restart its instance): starts the runbook, pages. */
async function alarmStartsRunbook(alarmName = 'web-cpu-high'): Promise<DeliveredPage> {
  const result = (await onAlarm(
    makeAlarmEvent({ alarmName, dimensions: { InstanceId: instanceId } }) as never,
    makeContext(),
  )) as PipelineResult;
  expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual([
    'ssm.start-automation done',
    'sns.page done',
  ]);
  const pages = await stack.readPages();
  expect(pages).toHaveLength(1);
  return pages[0] as DeliveredPage;
}

/** The documented execution event, for `executionId` in the alarm's region, with `status`, as a new delivery. */
function resultEvent(
  status: ResultStatus,
  executionId: string = EXECUTION,
  id: string = crypto.randomUUID(),
) {
  return automationExecutionStatusChange('execution-success', {
    id,
    region: 'us-east-1',
    resources: [
      `arn:aws:ssm:us-east-1:123456789012:automation-execution/${executionId}`,
      'arn:aws:ssm:us-east-1:123456789012:automation-definition/AWS-RestartEC2Instance:1',
    ],
    executionId,
    status,
  });
}

const deliver = (event: unknown) => onRunbookResult(event as never, makeContext()) as Promise<PipelineResult>;

describe('onRunbookResult against the emulator', () => {
  it.each(['Failed', 'TimedOut', 'Cancelled'] as const)(
    'escalates a %s runbook onAlarm started, naming the alarm, its earlier page id and the execution',
    async (status) => {
      // Arrange
      const alarmPage = await alarmStartsRunbook();
      // Act
      await deliver(resultEvent(status));
      // Assert
      const pages = await stack.readPages();
      expect(pages).toHaveLength(1);
      const [page] = pages;
      expect(page?.subject).toBe(
        `[HIGH] ssm.automation-result: Automation did not fix web-cpu-high: runcommand1 ${status}`,
      );
      expect(page?.attributes).toMatchObject({
        notice: 'escalation',
        severity: 'high',
        earlierPageId: alarmPage.attributes.pageId,
        executionId: EXECUTION,
      });
      expect(page?.body).toContain(`Earlier page id: ${alarmPage.attributes.pageId}`);
      expect(page?.body).toContain('web-cpu-high is ALARM (state change 2025-06-15T14:30:41.605+0000');
      expect(page?.body).toContain(
        `Execution: https://us-east-1.console.aws.amazon.com/systems-manager/automation/execution/${EXECUTION}?region=us-east-1`,
      );
    },
  );

  it('tells the paged incident once that its runbook succeeded, under its incident key', async () => {
    // Arrange
    const alarmPage = await alarmStartsRunbook();
    // Act
    await deliver(resultEvent('Success'));
    await deliver(resultEvent('Success'));
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.subject).toBe(
      '[INFO] ssm.automation-result: Runbook runcommand1 succeeded for web-cpu-high',
    );
    expect(pages[0]?.attributes).toMatchObject({
      notice: 'update',
      earlierPageId: alarmPage.attributes.pageId,
    });
    expect(pages[0]?.body).toContain(
      'Incident key: arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high',
    );
    const log = (await stack.scanTable()).filter(
      (i) => i.type === 'action' && i.signalKind === 'ssm.automation-result',
    );
    expect(log.map((e) => `${e.decision} ${e.reason ?? ''}`.trim()).sort()).toEqual([
      'done',
      'skipped suppressed',
    ]);
  });

  it("keeps the record's result claim and page link when another delivery of the ALARM comes after the escalation", async () => {
    // Arrange: the runbook started and paged, then failed and was escalated.
    const alarmPage = await alarmStartsRunbook();
    await deliver(resultEvent('Failed'));
    expect(await stack.readPages()).toHaveLength(1);
    // Act: the same transition delivered again as a new event (same runbook execution from SSM), then
    // the result again.
    const again = (await onAlarm(
      makeAlarmEvent({ alarmName: 'web-cpu-high', dimensions: { InstanceId: instanceId } }) as never,
      makeContext(),
    )) as PipelineResult;
    await deliver(resultEvent('Failed'));
    // Assert: the second delivery's page was suppressed and the record was not rewritten: still linked
    // to the first page, its escalation still claimed and sent, so nothing is paged again.
    expect(again.outcomes.map((o) => `${o.kind} ${o.status} ${o.reason ?? ''}`.trim())).toEqual([
      'ssm.start-automation done',
      'sns.page skipped suppressed',
    ]);
    expect(await stack.readPages()).toHaveLength(0);
    const [record] = (await stack.scanTable()).filter((i) =>
      String(i.id).endsWith(`#shared#automation#${EXECUTION}`),
    );
    expect(record).toMatchObject({
      pageId: alarmPage.attributes.pageId,
      'result-Failed': { sentAt: expect.any(Number) },
    });
  });

  it('pages nothing for an execution this system did not start, and records why', async () => {
    // Arrange
    await alarmStartsRunbook();
    const event = loadFixture<{ id: string }>('onRunbookResult/unknown-execution-failed.json');
    // Act
    const result = await deliver(resultEvent('Failed', '9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e', event.id));
    // Assert: its escalation's claim found no record of it to claim on.
    expect(result.outcomes).toEqual([
      expect.objectContaining({ kind: 'sns.page', status: 'skipped', reason: 'nothing-to-do' }),
    ]);
    expect(result.findings).toMatchObject({ decision: 'ignored' });
    expect(await stack.readPages()).toHaveLength(0);
    const log = (await stack.scanTable()).filter((i) => i.type === 'action' && i.correlationId === event.id);
    expect(log).toEqual([
      expect.objectContaining({
        decision: 'skipped',
        reason: 'nothing-to-do',
        detail: expect.stringContaining('was not started by this system'),
      }),
    ]);
  });

  it('ignores a result after a dry-run ALARM: nothing was started, so nothing was recorded', async () => {
    // Arrange
    setDryRun(true);
    await onAlarm(
      makeAlarmEvent({ alarmName: 'web-cpu-high', dimensions: { InstanceId: instanceId } }) as never,
      makeContext(),
    );
    await stack.readPages();
    // Act
    const result = await deliver(resultEvent('Failed'));
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    expect(result.findings).toMatchObject({ decision: 'ignored' });
    expect(await stack.readPages()).toHaveLength(0);
  });

  it('pages exactly once per execution result, each delivered 1 to 5 times, some at once, some redelivered with the same id', async () => {
    // Arrange: four alarms, four runbooks, four results
    ssm.reset();
    killSwitchFromEmulator(ssm);
    let started = 0;
    ssm
      .on(StartAutomationExecutionCommand)
      .callsFake(() => ({ AutomationExecutionId: EXECUTIONS[started++] }));
    const statuses = ['Failed', 'TimedOut', 'Cancelled', 'Success'] as const;
    const alarmPages: DeliveredPage[] = [];
    for (const [i] of EXECUTIONS.entries()) alarmPages.push(await alarmStartsRunbook(`web-cpu-${i}`));
    // Act
    await Promise.all(
      EXECUTIONS.map(async (executionId, i) => {
        const status = statuses[i] as ResultStatus;
        const first = resultEvent(status, executionId);
        const times = [5, 1, 3, 4][i] as number;
        const deliveries = Array.from({ length: times }, (_, n) =>
          // Every other one an EventBridge redelivery (same id), the rest a new event of the same result.
          n % 2 === 0 ? structuredClone(first) : resultEvent(status, executionId),
        );
        const [a, b, ...rest] = deliveries;
        await Promise.allSettled([a, b].filter(Boolean).map((d) => deliver(d)));
        for (const d of rest) await deliver(d).catch(() => undefined);
      }),
    );
    // Assert
    const pages = await stack.readPages();
    const byExecution = pages.map((p) => `${p.attributes.executionId} ${p.attributes.notice}`).sort();
    expect(byExecution).toEqual(
      [
        `${EXECUTIONS[0]} escalation`,
        `${EXECUTIONS[1]} escalation`,
        `${EXECUTIONS[2]} escalation`,
        `${EXECUTIONS[3]} update`,
      ].sort(),
    );
    for (const [i, executionId] of EXECUTIONS.entries()) {
      const page = pages.find((p) => p.attributes.executionId === executionId);
      expect(page?.attributes.earlierPageId).toBe(alarmPages[i]?.attributes.pageId);
    }
  });
});
