import { SSMClient } from '@aws-sdk/client-ssm';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { resetConfigForTests } from '#shared/config.ts';
import type { Plan, RunbookIntent } from '#shared/domain/intent.ts';
import { done, type Outcome } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { runFunction } from '#shared/runtime/pipeline.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';

// The runtime refuses, in one place, any mutation naming another account's resource: these executors
// and plans check nothing, as a function with a bug in its own checks would not.
const documents = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

const EVENT_ACCOUNT = '222222222222';
const OTHER_ACCOUNT = '333333333333';
const site = { requestId: 'r-1', account: EVENT_ACCOUNT, region: 'eu-west-1' };
const signal: Signal = {
  kind: 'test.signal',
  severity: 'high',
  title: 't',
  summary: 's',
  account: EVENT_ACCOUNT,
  region: 'eu-west-1',
  resources: [],
  correlationId: 'c-1',
  incidentKey: 'incident-1',
  occurredAt: '2026-11-22T00:00:00Z',
  evidence: {},
  links: [],
};
const runbookOn = (target: string, reason = 'test'): RunbookIntent => ({
  kind: 'ssm.start-automation',
  document: 'AWS-StopEC2Instance',
  parameters: { InstanceId: [target] },
  clientToken: 'token',
  rule: 'stop',
  reason,
});

function specWith(plan: Plan<RunbookIntent>) {
  const mutate = vi.fn(async (): Promise<Outcome> => done('ssm.start-automation', 'started'));
  const executors: ExecutorMap<RunbookIntent> = {
    'ssm.start-automation': {
      kind: 'ssm.start-automation',
      permissions: [],
      mutates: true,
      budgetMs: 10_000,
      preview: (intent) => `start ${intent.document} on ${intent.parameters.InstanceId?.join(',')}`,
      rateGuard: (intent) => ({ rule: intent.rule, actionId: intent.clientToken }),
      execute: mutate,
    },
  };
  const spec: FunctionSpec<z.ZodUnknown, undefined, undefined, RunbookIntent> = {
    name: 'test',
    settings: [],
    schema: z.unknown(),
    scope: () => [],
    observe: () => ({ signal, facts: undefined }),
    gather: { permissions: [], read: async () => undefined },
    plan: () => plan,
    executors,
  };
  return { spec, mutate };
}

beforeEach(() => {
  documents.reset();
  documents.on(BatchWriteCommand).resolves({});
  ssm.reset();
  withoutKillSwitch(ssm);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
});

describe('runtime: no action touches another account than its event', () => {
  it("acts on nothing when an event of one account names another account's resource, and says why", async () => {
    // Arrange
    const foreign = `arn:aws:ec2:eu-west-1:${OTHER_ACCOUNT}:instance/i-0abc1234def567890`;
    const { spec, mutate } = specWith({ intents: [runbookOn(foreign)], notes: [] });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(result.outcomes).toEqual([expect.objectContaining({ status: 'skipped', reason: 'out-of-scope' })]);
    expect(result.outcomes[0]?.detail).toContain(foreign);
    expect(result.outcomes[0]?.detail).toContain(`account ${OTHER_ACCOUNT}`);
    expect(result.outcomes[0]?.detail).toContain(`account ${EVENT_ACCOUNT}'s`);
  });

  it('refuses it in dry-run too, instead of previewing an action on the other account', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const foreign = `arn:aws:ec2:eu-west-1:${OTHER_ACCOUNT}:instance/i-0abc1234def567890`;
    const { spec } = specWith({ intents: [runbookOn(foreign)], notes: [] });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(result.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'out-of-scope' });
  });

  it("acts on its own account's resource, and on one another account is only quoted as evidence for", async () => {
    // Arrange
    const own = `arn:aws:ec2:eu-west-1:${EVENT_ACCOUNT}:instance/i-0abc1234def567890`;
    const quoted = `opened by arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/x/y`;
    const { spec, mutate } = specWith({ intents: [runbookOn(own, quoted)], notes: [] });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).toHaveBeenCalledOnce();
    expect(result.outcomes[0]).toMatchObject({ status: 'done' });
  });
});
