import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { launchInstances, stack, useEmulatedStack } from '../support/emulator.ts';

// What one page costs in state-table calls (each one billed, each one latency before the page is out),
// counted per event against moto, where every conditional write really decides. Counts, never times.
const ssm = mockClient(SSMClient);
let onAlarm: typeof import('#functions/onAlarm/handler.ts').handler;
let onCostAnomaly: typeof import('#functions/onCostAnomaly/handler.ts').handler;
const STACK = 'ops-autopilot-table-calls';
/** How shared/state/deliveryLease.ts renews the in-progress record. */
const LEASE_RENEWAL = 'SET #in_progress_expiry = :lease_until';
/** Each state-table call of the invocation: its command, and the key it touches. */
let tableCalls: { command: string; key: string }[] = [];

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: onCostAnomaly } = await import('#functions/onCostAnomaly/handler.ts'));
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: unknown; UpdateExpression?: string };
      // The delivery lease's renewals come every few seconds of the invocation, not per event.
      if (input.UpdateExpression !== LEASE_RENEWAL) {
        tableCalls.push({ command: context.commandName ?? '', key: JSON.stringify(input.Key ?? {}) });
      }
      return next(args);
    },
    // Before the SDK's retries: one call as the code makes it, however often it is retried.
    { step: 'initialize', name: 'countStateTableCallsForTests' },
  );
});

beforeEach(async () => {
  ssm.reset();
  killSwitchFromEmulator(ssm);
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'exec-1' });
  tableCalls = [];
});

const commands = () => tableCalls.map((c) => c.command);

describe('state-table calls per page', () => {
  it('pages a cost anomaly with one record claimed and marked sent, and no read before the claim', async () => {
    // Arrange
    const event = loadFixture('onCostAnomaly/anomaly-detected.json');
    // Act
    const result = (await onCostAnomaly(event as never, makeContext())) as PipelineResult;
    // Assert
    expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'sns.page', status: 'done' })]);
    expect(await stack.readPages()).toHaveLength(1);
    // The idempotency record, the anomaly's claim and sent mark, then the action log and the
    // idempotency result in one transaction.
    expect(commands()).toEqual([
      'PutItemCommand',
      'UpdateItemCommand',
      'UpdateItemCommand',
      'TransactWriteItemsCommand',
    ]);
    const paging = tableCalls.filter((c) => c.key.includes('#page#') || c.key.includes('#cost-anomaly#'));
    expect(new Set(paging.map((c) => c.key)).size).toBe(1);
  });

  it("pages an alarm's first ALARM without reading the incident's record before the runbook's claim", async () => {
    // Arrange: a runbook rule matches, its instance opted in.
    const [instanceId] = (await launchInstances(1, { 'ops:auto-remediate': 'true' })) as [string];
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high', dimensions: { InstanceId: instanceId } });
    // Act
    const result = (await onAlarm(event as never, makeContext())) as PipelineResult;
    // Assert
    expect(result.outcomes).toEqual([
      expect.objectContaining({ kind: 'ssm.start-automation', status: 'done' }),
      expect.objectContaining({ kind: 'sns.page', status: 'done' }),
    ]);
    expect(await stack.readPages()).toHaveLength(1);
    const incidentReads = tableCalls.filter(
      (c) => c.command === 'GetItemCommand' && c.key.includes('#page#'),
    );
    expect(incidentReads).toEqual([]);
    // The idempotency record, the start's claim (one transaction: the rate guard slot, the start, the
    // incident's last OK checked), the page's window, its sent mark with the execution's record (linked
    // to the page) and the start's note of the execution (one transaction), and the action log with the
    // idempotency result (one transaction).
    expect(commands()).toEqual([
      'PutItemCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
    ]);
  });
});
