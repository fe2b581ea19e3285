import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { resetConfigForTests } from '#shared/config.ts';
import type { PageIntent, Plan, RunbookIntent } from '#shared/domain/intent.ts';
import { done, type Outcome } from '#shared/domain/outcome.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { runInInvocation } from '#shared/runtime/invocation.ts';
import { executorCounts, runFunction } from '#shared/runtime/pipeline.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';

// The runtime, not each executor, decides whether a mutation runs: these executors check nothing.
const documents = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

type TestIntent = RunbookIntent | PageIntent;

const site = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const runPipeline = (spec: FunctionSpec<z.ZodUnknown, undefined, undefined, TestIntent>) =>
  runFunction(spec, {}, site);

const signal: Signal = {
  kind: 'test.signal',
  severity: 'high',
  title: 't',
  summary: 's',
  account: '123456789012',
  region: 'us-east-1',
  resources: [],
  correlationId: 'c-1',
  incidentKey: 'incident-1',
  occurredAt: '2026-11-22T00:00:00Z',
  evidence: {},
  links: [],
};

const runbook: RunbookIntent = {
  kind: 'ssm.start-automation',
  document: 'AWS-RestartEC2Instance',
  parameters: { InstanceId: ['i-0abc1234def567890'] },
  clientToken: 'token',
  rule: 'restart',
  reason: 'test',
};
const page: PageIntent = pageIntent(signal, { notice: 'incident', severity: 'high', reason: 'test' });

function specWith(plan: Plan<TestIntent>) {
  const mutate = vi.fn(async (): Promise<Outcome> => done('ssm.start-automation', 'started'));
  const notify = vi.fn(async (_intent: PageIntent, ctx: { prior: Outcome[] }) =>
    done('sns.page', `paged after ${ctx.prior.map((o) => o.status).join(',')}`),
  );
  const executors: ExecutorMap<TestIntent> = {
    'ssm.start-automation': {
      kind: 'ssm.start-automation',
      permissions: [],
      mutates: true,
      budgetMs: 10_000,
      preview: (intent) => `start ${intent.document}`,
      rateGuard: (intent) => ({ rule: intent.rule, actionId: intent.clientToken }),
      execute: mutate,
    },
    'sns.page': { kind: 'sns.page', permissions: [], mutates: false, execute: notify },
  };
  const spec: FunctionSpec<z.ZodUnknown, undefined, undefined, TestIntent> = {
    name: 'test',
    settings: [],
    schema: z.unknown(),
    scope: () => [],
    observe: () => ({ signal, facts: undefined }),
    gather: { permissions: [], read: async () => undefined },
    plan: () => plan,
    executors,
  };
  return { spec, mutate, notify };
}

const withTimeLeft = <T>(ms: number, work: () => Promise<T>, aborted = false) => {
  const controller = new AbortController();
  if (aborted) controller.abort();
  return runInInvocation({ signal: controller.signal, remainingMs: () => ms }, work);
};

beforeEach(() => {
  documents.reset();
  documents.on(BatchWriteCommand).resolves({});
  ssm.reset();
  withoutKillSwitch(ssm);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
});

describe('runtime dry-run', () => {
  it('never calls a mutating executor on a dry-run stage, shows its preview, and still pages', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const { spec, mutate, notify } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const result = await runPipeline(spec);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(notify).toHaveBeenCalledOnce();
    expect(result.dryRun).toBe(true);
    expect(result.outcomes[0]).toMatchObject({
      status: 'skipped',
      reason: 'dry-run',
      detail: 'would start AWS-RestartEC2Instance',
    });
  });

  it('lets a plan make a live run dry (a manual payload asked), never a dry stage live', async () => {
    // Arrange
    const dryPlan = specWith({ intents: [runbook], notes: [], dryRun: true });
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const livePlanOnDryStage = specWith({ intents: [runbook], notes: [], dryRun: false });
    // Act
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    await runPipeline(dryPlan.spec);
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const forcedLive = await runPipeline(livePlanOnDryStage.spec);
    // Assert
    expect(dryPlan.mutate).not.toHaveBeenCalled();
    expect(livePlanOnDryStage.mutate).not.toHaveBeenCalled();
    expect(forcedLive.dryRun).toBe(true);
  });

  it('records dry-run in the action log', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const { spec } = specWith({ intents: [runbook], notes: [] });
    // Act
    await runPipeline(spec);
    // Assert
    const items = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.state ?? []);
    expect(items.map((i) => i.PutRequest?.Item)).toEqual([
      expect.objectContaining({ decision: 'skipped', reason: 'dry-run', dryRun: true }),
    ]);
  });
});

const modeIs = (value: string) => {
  ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/ops-autopilot/dev/mode', Value: value } });
};
const loggedItems = () =>
  documents
    .commandCalls(BatchWriteCommand)
    .flatMap((c) => c.args[0].input.RequestItems?.state ?? [])
    .map((i) => i.PutRequest?.Item);

describe('runtime kill switch (/ops-autopilot/<stage>/mode)', () => {
  it('makes a live run dry when set to dry-run, says so in the result and the action log, and still pages', async () => {
    // Arrange
    modeIs('dry-run');
    const { spec, mutate, notify } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const result = await runPipeline(spec);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(notify).toHaveBeenCalledOnce();
    expect(notify.mock.calls[0]?.[1]).toMatchObject({
      forcedDryRun: 'Forced dry-run by /ops-autopilot/dev/mode: set to dry-run',
    });
    expect(result).toMatchObject({
      dryRun: true,
      forcedDryRun: 'Forced dry-run by /ops-autopilot/dev/mode: set to dry-run',
    });
    expect(loggedItems()[0]).toMatchObject({
      reason: 'dry-run',
      dryRun: true,
      forcedDryRun: 'Forced dry-run by /ops-autopilot/dev/mode: set to dry-run',
    });
  });

  it('fails safe to dry-run when the parameter cannot be read, and says why', async () => {
    // Arrange
    ssm.on(GetParameterCommand).rejects(
      Object.assign(new Error('not authorized to perform ssm:GetParameter'), {
        name: 'AccessDeniedException',
      }),
    );
    const { spec, mutate } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const result = await runPipeline(spec);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(result.forcedDryRun).toBe(
      'Forced dry-run by /ops-autopilot/dev/mode: it could not be read (AccessDeniedException: not authorized to perform ssm:GetParameter), and an unknown mode never acts',
    );
  });

  it('follows the stage when set to live, and reads the parameter once per cache period, not per run', async () => {
    // Arrange
    modeIs('live');
    const first = specWith({ intents: [runbook], notes: [] });
    const second = specWith({ intents: [runbook], notes: [] });
    // Act
    await runPipeline(first.spec);
    await runPipeline(second.spec);
    // Assert
    expect(first.mutate).toHaveBeenCalledOnce();
    expect(second.mutate).toHaveBeenCalledOnce();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('is not read on a dry-run stage or when nothing would mutate', async () => {
    // Arrange
    modeIs('dry-run');
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const dryStage = specWith({ intents: [runbook, page], notes: [] });
    const pageOnly = specWith({ intents: [page], notes: [] });
    // Act
    await runPipeline(dryStage.spec);
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    const paged = await runPipeline(pageOnly.spec);
    // Assert
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    expect(paged.forcedDryRun).toBeUndefined();
  });
});

describe('runtime rate guard', () => {
  it('claims a slot keyed by the rule and the action id before a live mutation', async () => {
    // Arrange
    const { spec, mutate } = specWith({ intents: [runbook], notes: [] });
    // Act
    await runPipeline(spec);
    // Assert
    const [claim] = documents.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(claim?.Key?.id).toMatch(/^ops-autopilot-test#rate-guard#restart#\d+$/);
    expect(claim?.ExpressionAttributeValues?.[':action']).toEqual(new Set(['token']));
    expect(claim?.ExpressionAttributeValues?.[':max']).toBe(10);
    expect(mutate).toHaveBeenCalledOnce();
  });

  it('refuses a mutation whose rule has used its window, as rate-limited, and pages the trip only once per window', async () => {
    // Arrange: the window is full, and another delivery has already paged the trip.
    documents.on(UpdateCommand).rejects(
      Object.assign(new Error('The conditional request failed'), {
        name: 'ConditionalCheckFailedException',
      }),
    );
    const { spec, mutate, notify } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const result = await runPipeline(spec);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(result.outcomes[0]).toMatchObject({
      kind: 'ssm.start-automation',
      status: 'skipped',
      reason: 'rate-limited',
      detail: expect.stringContaining('the rate guard allows 10 action(s) of restart per 60 min'),
    });
    // Only the plan's own page: the trip page belongs to the delivery that claimed it.
    expect(notify).toHaveBeenCalledOnce();
    expect(result.outcomes.map((o) => o.kind)).toEqual(['ssm.start-automation', 'sns.page']);
  });

  it('fails the delivery (for a retry) when the slot cannot be claimed, without acting', async () => {
    // Arrange
    documents
      .on(UpdateCommand)
      .rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    const { spec, mutate } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const error = await runPipeline(spec).catch((e: unknown) => e);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect((error as Error).name).toBe('ActionFailedError');
    expect((error as Error).message).toContain('could not claim a rate guard slot for restart');
  });
});

describe('runtime deadline', () => {
  it('starts no mutation with less time left than it needs, records why, and fails the delivery for a retry', async () => {
    // Arrange
    const { spec, mutate, notify } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const error = await withTimeLeft(2_000, () => runPipeline(spec)).catch((e: unknown) => e);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    // The page waits for the retry, which can also start the runbook: one page, saying what happened.
    expect(notify).not.toHaveBeenCalled();
    expect((error as Error).name).toBe('DeadlineExceeded');
    expect((error as Error).message).toMatch(/2000 ms left.*needs 10000 ms/);
    const logged = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.state ?? [])
      .map((i) => i.PutRequest?.Item);
    expect(logged).toEqual([
      expect.objectContaining({
        decision: 'failed',
        detail: 'not started: would start AWS-RestartEC2Instance',
      }),
    ]);
  });

  it('runs the mutation when enough time is left', async () => {
    // Arrange
    const { spec, mutate, notify } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    await withTimeLeft(30_000, () => runPipeline(spec));
    // Assert
    expect(mutate).toHaveBeenCalledOnce();
    expect(notify).toHaveBeenCalledOnce();
  });

  it('stops a run whose invocation was already aborted before it plans or acts', async () => {
    // Arrange
    const { spec, mutate, notify } = specWith({ intents: [runbook, page], notes: [] });
    // Act
    const error = await withTimeLeft(30_000, () => runPipeline(spec), true).catch((e: unknown) => e);
    // Assert
    expect((error as Error).name).toBe('DeadlineExceeded');
    expect(mutate).not.toHaveBeenCalled();
    expect(notify).not.toHaveBeenCalled();
  });
});

describe('runtime metrics', () => {
  it('counts what each executor declares, refusals by plan notes included, and knows no intent kind', () => {
    // Arrange: a runbook executor that counts starts and refusals; a note withholding a start
    const executors = {
      'ssm.start-automation': {
        kind: 'ssm.start-automation' as const,
        permissions: [],
        mutates: true as const,
        budgetMs: 0,
        metrics: { done: 'Started', refused: { 'out-of-scope': 'Refused', 'limit-reached': 'Refused' } },
        preview: () => 'start',
        rateGuard: () => ({ rule: 'r', actionId: 'a' }),
        execute: async () => done('ssm.start-automation', 'started'),
      },
      'sns.page': {
        kind: 'sns.page' as const,
        permissions: [],
        mutates: false as const,
        metrics: { done: 'Paged' },
        execute: async () => done('sns.page', 'paged'),
      },
    } satisfies ExecutorMap<TestIntent>;
    const outcomes: Outcome[] = [
      done('ssm.start-automation', 'started'),
      { kind: 'ssm.start-automation', status: 'skipped', reason: 'limit-reached', detail: 'over the limit' },
    ];
    const notes = [
      {
        decision: 'skipped' as const,
        reason: 'out-of-scope' as const,
        detail: 'not opted in',
        withheld: 'ssm.start-automation' as const,
      },
      { decision: 'skipped' as const, reason: 'muted' as const, detail: 'muted' },
    ];
    // Act
    const counts = executorCounts<TestIntent>(executors, outcomes, notes);
    // Assert
    expect(Object.fromEntries(counts)).toEqual({ Started: 1, Refused: 2, Paged: 0 });
  });
});
