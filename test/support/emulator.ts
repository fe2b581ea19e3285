import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { type SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { setDryRun, useStackEnvironment } from '../../tools/local/emulator.ts';
import { DEFAULT_AMI } from '../../tools/local/fleet.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { createLocalStack, type LocalStack } from '../../tools/local/localStack.ts';
import type { Moto } from '../../tools/local/moto.ts';
import { claimSharedMoto } from './sharedMoto.ts';

/**
 * The set-up every emulator test file shares (test/emulator/): a moto of its own while it runs (the
 * run's shared moto of its slot, reset: sharedMoto.ts), the environment a deployed function of the stack
 * would have, a fresh stack (state table, page topic) for every test, and moto handed on after the file. What a file adds (its handlers, mocks, middleware) goes in its own hooks,
 * written after `useEmulatedStack`: hooks run in the order they are written, so moto is up by then.
 */

/** The file's moto: claimed (and reset) before its first test. */
export let moto: Moto;
/** The stack the current test runs against: made anew before each test. */
export let stack: LocalStack;

export interface EmulatedStackOptions {
  /** The stage's dry-run switch for every test (DRY_RUN); unset: the file or the test sets it. */
  dryRun?: boolean;
  /** Resets moto and makes the stack before each test; false: once, before the file. Default true. */
  freshEachTest?: boolean;
}

/** Registers the file's moto and stack hooks; call it at the top of the file, before its own hooks. */
export function useEmulatedStack(name: string, options: EmulatedStackOptions = {}): void {
  const freshEachTest = options.freshEachTest ?? true;
  beforeAll(async () => {
    moto = await claimSharedMoto();
    useStackEnvironment(moto.endpoint, name);
    if (!freshEachTest) stack = await createLocalStack(name);
  });
  afterAll(async () => {
    await moto?.stop();
  });
  if (!freshEachTest) return;
  beforeEach(async () => {
    await moto.reset();
    stack = await createLocalStack(name);
    if (options.dryRun !== undefined) setDryRun(options.dryRun);
  });
}

/** Running instances in moto with the given tags; their ids (moto chooses them). */
export async function launchInstances(count: number, tags: Record<string, string>): Promise<string[]> {
  const res = await new EC2Client({}).send(
    new RunInstancesCommand({
      ImageId: DEFAULT_AMI,
      InstanceType: 't3.micro',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return (res.Instances ?? []).map((i) => i.InstanceId as string);
}

/**
 * moto has no SSM Automation: the mocked SSM client answers StartAutomationExecution with `executionId`
 * and reads the kill switch from moto's SSM (absent: the stage decides).
 */
export function mockRunbookStarts(ssm: AwsClientStub<SSMClient>, executionId: string): void {
  ssm.reset();
  killSwitchFromEmulator(ssm);
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: executionId });
}
