import { beforeAll, beforeEach } from 'vitest';
import { setDryRun } from '../../tools/local/emulator.ts';
import type { InstanceGroup } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { useEmulatedStack } from './emulator.ts';

export { moto, stack } from './emulator.ts';

// The stopIdleInstances emulator harness (test/emulator/stopIdleInstances.test.ts, .fleetScale): moto, the handler, every EC2 and CloudWatch call.

export type Handler = typeof import('#functions/stopIdleInstances/handler.ts').handler;
export type ScanFleet = typeof import('#shared/idle/gather.ts').scanFleet;
export type StopExecutor = typeof import('#shared/executors/stopInstances.ts').stopInstancesExecutor;

export interface Call {
  command: string;
  input: Record<string, unknown>;
}

export let handler: Handler;
export let scanFleet: ScanFleet;
export let stopExecutor: StopExecutor;
/** Every call the code under test makes through the shared EC2 and CloudWatch clients. */
export const calls: Call[] = [];
export const STACK = 'ops-autopilot-idle';
export const MUTATING = [
  'StopInstancesCommand',
  'CreateTagsCommand',
  'ModifyInstanceAttributeCommand',
  'StartInstancesCommand',
];

export const setStageDryRun = setDryRun;

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/stopIdleInstances/handler.ts'));
  ({ scanFleet } = await import('#shared/idle/gather.ts'));
  ({ stopInstancesExecutor: stopExecutor } = await import('#shared/executors/stopInstances.ts'));
  const { ec2 } = await import('#shared/aws/ec2.ts');
  const { cloudwatch } = await import('#shared/aws/cloudwatch.ts');
  const record = (command: string | undefined, input: unknown) =>
    calls.push({ command: command ?? '?', input: input as Record<string, unknown> });
  ec2.middlewareStack.add(
    (next, context) => async (args) => {
      record(context.commandName, args.input);
      return next(args);
    },
    { step: 'initialize', name: 'countCallsForTests' },
  );
  cloudwatch.middlewareStack.add(
    (next, context) => async (args) => {
      record(context.commandName, args.input);
      return next(args);
    },
    { step: 'initialize', name: 'countCallsForTests' },
  );
});

beforeEach(() => {
  calls.length = 0;
});

export const invoke = (event: unknown) => handler(event as never, makeContext());
export const callsOf = (command: string) => calls.filter((c) => c.command === command);
export const stoppedIds = () =>
  callsOf('StopInstancesCommand').flatMap((c) => c.input.InstanceIds as string[]);

export interface Verdict {
  instanceId: string;
  decision: string;
  exclusion?: string;
  status?: string;
  reason: string;
}
export const verdictsOf = (result: unknown): Verdict[] =>
  (result as { findings: { verdicts: Verdict[] } }).findings.verdicts;
export const decisionOf = (result: unknown, id: string) =>
  verdictsOf(result).find((v) => v.instanceId === id);

export const OPT_IN = { 'ops:auto-stop': 'true' };
export const idleCpu = (percent = 1) => ({ hours: 24, value: percent });
export const quietNetwork = { hours: 24, value: 20_000 };
export const idle = (name: string, extra: Partial<InstanceGroup> = {}): InstanceGroup => ({
  name,
  tags: OPT_IN,
  cpu: idleCpu(),
  network: quietNetwork,
  ...extra,
});
