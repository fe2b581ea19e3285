import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { launchInstances, mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';

// Found by an adversarial review (issue 6 item 2).
// Staleness is read once, in gather (lastRecoveryAt), and nothing checks it
// again when the start is claimed. An OK processed between the ALARM's gather and its execute (an alarm
// that flaps, ALARM and OK delivered together) lets the older ALARM restart the instance, while its page
// is then refused as already-recovered: a restart nobody is told about, the defect item 2 fixed.

const ssm = mockClient(SSMClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;
let spec: typeof import('#functions/onAlarm/spec.ts').onAlarm;
let instanceId: string;
const STACK = 'ops-autopilot-late-alarm';

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  ({ onAlarm: spec } = await import('#functions/onAlarm/spec.ts'));
});

beforeEach(async () => {
  mockRunbookStarts(ssm, 'exec-1');
  instanceId = (await launchInstances(1, { 'ops:auto-remediate': 'true' }))[0] as string;
});

const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const at = (hhmm: string) => `2025-06-21T${hhmm}:00.000+0000`;
const event = (id: string, state: 'ALARM' | 'OK', hhmm: string) =>
  makeAlarmEvent({
    id,
    alarmName: 'web-cpu-high',
    state,
    timestamp: at(hhmm),
    dimensions: { InstanceId: instanceId },
  });

describe('a late ALARM whose newer OK is processed while the ALARM is being handled', () => {
  it('starts no runbook (or, if it did, pages it)', async () => {
    // Arrange: hold the ALARM (02:00) right after its gather, until its OK (03:00) has been handled.
    const read = spec.gather.read;
    let gathered!: () => void;
    const alarmGathered = new Promise<void>((r) => {
      gathered = r;
    });
    let release!: () => void;
    const okHandled = new Promise<void>((r) => {
      release = r;
    });
    vi.spyOn(spec.gather, 'read').mockImplementation(async (input) => {
      const result = await read(input);
      if (input.facts.state === 'ALARM') {
        gathered();
        await okHandled;
      }
      return result;
    });

    // Act
    const alarm = invoke(event('alarm-0200', 'ALARM', '02:00'));
    await alarmGathered;
    await invoke(event('ok-0300', 'OK', '03:00'));
    release();
    const result = await alarm;

    // Assert
    const pages = await stack.readPages();
    const starts = ssm.commandCalls(StartAutomationExecutionCommand);
    // Today: one StartAutomationExecution, no page, the page skipped as already-recovered.
    const silentRestart = starts.length > 0 && pages.length === 0;
    expect({
      starts: starts.length,
      pages: pages.length,
      silentRestart,
      outcomes: result.outcomes,
    }).toMatchObject({ silentRestart: false });
  });
});
