import { GetCalendarStateCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { BatchWriteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { resetConfigForTests } from '#shared/config.ts';
import type { PageIntent, Plan, RunbookIntent } from '#shared/domain/intent.ts';
import { done, type Outcome } from '#shared/domain/outcome.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import type { FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { DeadlineError, runInInvocation } from '#shared/runtime/invocation.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { runFunction } from '#shared/runtime/pipeline.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { answerCalendars, calendarsAsked, editStage } from '../support/changeCalendars.ts';

// The runtime, not each executor, holds a mutation back during a change freeze: these executors check nothing.
const documents = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

type TestIntent = RunbookIntent | PageIntent;
const site = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const OPENS = '2026-12-27T08:00:00.000Z';

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
const runbookOf = (rule: string): RunbookIntent => ({
  kind: 'ssm.start-automation',
  document: 'AWS-RestartEC2Instance',
  parameters: { InstanceId: ['i-0abc1234def567890'] },
  clientToken: `token-${rule}`,
  rule,
  reason: 'test',
});
const page: PageIntent = pageIntent(signal, { notice: 'incident', severity: 'high', reason: 'test' });

/** A function whose rules name their own calendars (`rule-calendars`) or act through a freeze (`security`). */
const scopeOf = (intent: TestIntent): FreezeScope =>
  intent.kind !== 'ssm.start-automation'
    ? {}
    : intent.rule === 'security'
      ? { ignoreChangeFreeze: true }
      : intent.rule === 'rule-calendars'
        ? { calendars: ['rule-freeze'] }
        : {};

function specWith(plan: Plan<TestIntent>) {
  const mutate = vi.fn(async (): Promise<Outcome> => done('ssm.start-automation', 'started'));
  const notify = vi.fn(async (_intent: PageIntent, ctx: { prior: Outcome[] }) =>
    done('sns.page', `paged after ${ctx.prior.map((o) => `${o.status} ${o.reason ?? ''}`).join(',')}`),
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
    changeFreeze: scopeOf,
  };
  return { spec, mutate, notify };
}

let restoreStage: () => void = () => {};
const withStageCalendars = (calendars: string[]) => {
  restoreStage = editStage('dev', (s) => ({ ...s, changeCalendars: calendars }));
};

beforeEach(() => {
  documents.reset();
  documents.on(BatchWriteCommand).resolves({});
  documents.on(UpdateCommand).resolves({ Attributes: { actions: ['x'] } });
  ssm.reset();
  withoutKillSwitch(ssm);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
});

afterEach(() => {
  restoreStage();
  restoreStage = () => {};
});

describe('runtime change freeze (changeCalendars)', () => {
  it('previews a live mutation as change-freeze while a stage calendar is CLOSED, says which and when it opens, and still pages', async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, { 'release-freeze': { State: 'CLOSED', NextTransitionTime: OPENS } });
    const { spec, mutate, notify } = specWith({ intents: [runbookOf('restart'), page], notes: [] });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(notify).toHaveBeenCalledOnce();
    expect(result.outcomes[0]).toEqual({
      kind: 'ssm.start-automation',
      status: 'skipped',
      reason: 'change-freeze',
      detail: `would start AWS-RestartEC2Instance (change freeze: calendar release-freeze is CLOSED; it opens at ${OPENS})`,
    });
    expect(result.outcomes[1]?.detail).toBe('paged after skipped change-freeze');
    const log = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => Object.values(c.args[0].input.RequestItems ?? {}).flat());
    expect(JSON.stringify(log)).toContain('"reason":"change-freeze"');
    expect(JSON.stringify(log)).toContain(`calendar release-freeze is CLOSED; it opens at ${OPENS}`);
  });

  it('counts the actions a freeze held back (ActionsChangeFreeze), zero when none, for the dashboard', async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, { 'release-freeze': { State: 'CLOSED', NextTransitionTime: OPENS } });
    const added = vi.spyOn(metrics, 'addMetric');
    const frozen = specWith({ intents: [runbookOf('restart'), runbookOf('other'), page], notes: [] });
    const open = specWith({ intents: [runbookOf('security')], notes: [] });
    // Act
    await runFunction(frozen.spec, {}, site);
    const whileFrozen = added.mock.calls.filter(([name]) => name === 'ActionsChangeFreeze');
    added.mockClear();
    await runFunction(open.spec, {}, site);
    const whenActing = added.mock.calls.filter(([name]) => name === 'ActionsChangeFreeze');
    added.mockRestore();
    // Assert
    expect(whileFrozen.map(([, , n]) => n)).toEqual([2]);
    expect(whenActing.map(([, , n]) => n)).toEqual([0]);
  });

  it('acts when every calendar is OPEN, reading each once for the whole plan', async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, { 'release-freeze': { State: 'OPEN' } });
    const { spec, mutate } = specWith({
      intents: [runbookOf('restart'), runbookOf('other'), page],
      notes: [],
    });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).toHaveBeenCalledTimes(2);
    expect(result.outcomes.slice(0, 2).map((o) => o.status)).toEqual(['done', 'done']);
    expect(calendarsAsked(ssm)).toEqual(['release-freeze']);
  });

  it('previews when a calendar cannot be read, and says it could not be read', async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, {
      'release-freeze': Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
    });
    const { spec, mutate } = specWith({ intents: [runbookOf('restart'), page], notes: [] });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(result.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'change-freeze' });
    expect(result.outcomes[0]?.detail).toContain(
      'calendar release-freeze could not be read (AccessDeniedException: User is not authorized)',
    );
  });

  it("checks a rule's own calendars in addition to the stage's", async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, {
      'release-freeze': { State: 'OPEN' },
      'rule-freeze': { State: 'CLOSED', NextTransitionTime: OPENS },
    });
    const { spec, mutate } = specWith({
      intents: [runbookOf('rule-calendars'), runbookOf('restart')],
      notes: [],
    });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).toHaveBeenCalledOnce();
    expect(result.outcomes.map((o) => o.reason ?? o.status)).toEqual(['change-freeze', 'done']);
    expect(result.outcomes[0]?.detail).toContain('calendar rule-freeze is CLOSED');
  });

  it('lets an intent that ignores the freeze (ignoreChangeFreeze) act under a CLOSED calendar, asking nothing', async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, { 'release-freeze': { State: 'CLOSED', NextTransitionTime: OPENS } });
    const { spec, mutate } = specWith({ intents: [runbookOf('security')], notes: [] });
    // Act
    const result = await runFunction(spec, {}, site);
    // Assert
    expect(mutate).toHaveBeenCalledOnce();
    expect(result.outcomes[0]?.status).toBe('done');
    expect(calendarsAsked(ssm)).toEqual([]);
  });

  it('is not read on a dry-run stage, nor when the kill switch forces dry-run: both win', async () => {
    // Arrange
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, { 'release-freeze': { State: 'CLOSED', NextTransitionTime: OPENS } });
    const dry = specWith({ intents: [runbookOf('security'), runbookOf('restart')], notes: [] });
    // Act
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    const onDryStage = await runFunction(dry.spec, {}, site);
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'dry-run' } });
    resetKillSwitchForTests();
    const forced = await runFunction(dry.spec, {}, site);
    // Assert
    expect(dry.mutate).not.toHaveBeenCalled();
    expect([...onDryStage.outcomes, ...forced.outcomes].map((o) => o.reason)).toEqual([
      'dry-run',
      'dry-run',
      'dry-run',
      'dry-run',
    ]);
    expect(calendarsAsked(ssm)).toEqual([]);
  });

  it('fails the delivery for a retry when the invocation timed out while the calendar was read: a lost read is not a freeze', async () => {
    // Arrange: the read outlives the invocation (middy aborts it 1 s before Lambda's deadline).
    withStageCalendars(['release-freeze']);
    answerCalendars(ssm, {});
    const controller = new AbortController();
    ssm.on(GetCalendarStateCommand).callsFake(() => {
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    // The mutation last: no later step notices the abort for it.
    const { spec, mutate } = specWith({ intents: [runbookOf('restart')], notes: [] });
    // Act
    const error = await runInInvocation({ signal: controller.signal, remainingMs: () => 0 }, () =>
      runFunction(spec, {}, site),
    ).catch((e: unknown) => e);
    // Assert
    expect(mutate).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(DeadlineError);
  });

  it('asks nothing when no calendar is configured', async () => {
    // Arrange
    const { spec, mutate } = specWith({ intents: [runbookOf('restart')], notes: [] });
    // Act
    await runFunction(spec, {}, site);
    // Assert
    expect(mutate).toHaveBeenCalledOnce();
    expect(calendarsAsked(ssm)).toEqual([]);
  });
});
