import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, setDryRun } from '../../tools/local/emulator.ts';
import { type AlarmEventOptions, makeAlarmEvent as alarmEvent } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { launchInstances, mockRunbookStarts, useEmulatedStack } from './emulator.ts';
import { type Latch, latch } from './latch.ts';

export { moto, stack } from './emulator.ts';

// The onAlarm emulator harness (test/emulator/onAlarm.test.ts, .runbookScope): moto, the handler, SSM
// mocked, publishes holdable, state-table calls observable.

// moto has no SSM Automation: StartAutomationExecution is mocked, everything else is moto.
export const ssm = mockClient(SSMClient);
export let handler: typeof import('#functions/onAlarm/handler.ts').handler;
let publishHold: { started: Latch; release: Latch } | undefined;

/** A state-table call as the functions make it: the command's name and its update, if any. */
export interface StateTableCall {
  command: string;
  updateExpression: string;
}
type StateTableHook = (call: StateTableCall, error?: unknown) => void;
let afterStateTableCall: StateTableHook | undefined;
/** Runs `hook` after every state-table call answers (or fails), until the next test. */
export function watchStateTable(hook: StateTableHook): void {
  afterStateTableCall = hook;
}

export const STACK = 'ops-autopilot-emulator';
export const OPTED_IN = { 'ops:auto-remediate': 'true' };

/** Running instances in moto with the given tags; their ids (moto chooses them). */
export const launch = launchInstances;

/** The alarm's instance: running and opted in to remediation, launched anew for every test. */
export let instanceId: string;
export const makeAlarmEvent = (options: AlarmEventOptions = {}) =>
  alarmEvent({ dimensions: { InstanceId: instanceId }, ...options });

/**
 * Holds every SNS publish until `release`; `started` resolves once one is held. Orders a race on the
 * page being published without guessing how long anything takes.
 */
export function holdPublishes(): { started: Promise<void>; release: () => void } {
  const hold = { started: latch(), release: latch() };
  publishHold = hold;
  return { started: hold.started.opened, release: () => hold.release.open() };
}

export const setMode = setDryRun;

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  // Concurrent deliveries race here: each state-table write must be atomic, as in DynamoDB.
  await sendStateTableCallsOneAtATime();
  const { sns } = await import('#shared/aws/sns.ts');
  sns.middlewareStack.add(
    (next) => async (args) => {
      if (publishHold) {
        publishHold.started.open();
        await publishHold.release.opened;
      }
      return next(args);
    },
    { step: 'initialize', name: 'holdPublishForTests' },
  );
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const call = {
        command: context.commandName ?? '',
        updateExpression: (args.input as { UpdateExpression?: string }).UpdateExpression ?? '',
      };
      try {
        const result = await next(args);
        afterStateTableCall?.(call);
        return result;
      } catch (error) {
        afterStateTableCall?.(call, error);
        throw error;
      }
    },
    { step: 'initialize', name: 'watchStateTableForTests' },
  );
});

beforeEach(async () => {
  publishHold = undefined;
  afterStateTableCall = undefined;
  mockRunbookStarts(ssm, 'exec-1');
  [instanceId] = (await launch(1, OPTED_IN)) as [string];
});

export const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
export const at = (hhmm: string) => `2025-06-21T${hhmm}:00.000+0000`;
export const alarmAt = (id: string, hhmm: string) =>
  makeAlarmEvent({ id, alarmName: 'web-cpu-high', timestamp: at(hhmm) });
export const okAt = (id: string, hhmm: string) =>
  makeAlarmEvent({ id, alarmName: 'web-cpu-high', state: 'OK', timestamp: at(hhmm) });
export const runbookStarts = () => ssm.commandCalls(StartAutomationExecutionCommand);
