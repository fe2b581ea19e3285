import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import { awaitApproval } from '#shared/approval/pending.ts';
import type { ApprovalNeed } from '#shared/approval/recheck.ts';
import { functionConfig, type RuntimeConfig, type SharedConfig } from '#shared/config.ts';
import type { Intent, PageIntent, Plan, PlanNote } from '#shared/domain/intent.ts';
import { failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutionContext, Executor, ExecutorMap } from '#shared/executors/types.ts';
import { accountDecision } from '#shared/organization/account.ts';
import { type AccountLabels, accountNameOf, withAccountLabels } from '#shared/organization/accountNames.ts';
import { foreignArnOf } from '#shared/organization/foreignArns.ts';
import { ouPathOf } from '#shared/organization/ouPaths.ts';
import { NOT_SERVED_WINDOW_MINUTES } from '#shared/organization/servedAccounts.ts';
import { actingSiteOf } from '#shared/organization/site.ts';
import { actInTarget } from '#shared/organization/target.ts';
import type { FunctionSettings } from '#shared/stageSettings.ts';
import { type ActionLogEntry, actionLogEntries, writeActionLog } from '#shared/state/actionLog.ts';
import {
  calendarsFor,
  changeFreezeState,
  type FreezeScope,
  type FreezeState,
  freezeReason,
} from './changeFreeze.ts';
import type { FunctionSpec, InvocationSite, Observation, PipelineResult } from './functionSpec.ts';
import { currentInvocation, DeadlineError, throwIfAborted } from './invocation.ts';
import { readKillSwitch } from './killSwitch.ts';
import { logger, metrics, tracer } from './powertools.ts';
import { guardedExecute } from './rateGuardedExecution.ts';

/**
 * The one way through every function: observe (pure: signal and facts) -> gather (reads) -> plan
 * (pure) -> execute (the only writes) -> report. A function's spec supplies the steps; this runs them.
 */

/** Thrown after reporting when an action failed, so the delivery is retried and ends in the failure queue. */
export class ActionFailedError extends Error {
  override name = 'ActionFailedError';
  constructor(readonly result: PipelineResult) {
    const failures = result.outcomes.filter((o) => o.status === 'failed');
    // The details say what did happen too (e.g. which instances stopped): often all a caller sees.
    super(
      `${failures.length} action(s) failed: ${failures.map((f) => `${f.kind}: ${f.detail} [${f.error?.name}: ${f.error?.message}]`).join('; ')}`,
    );
  }
}

function executorFor<I extends Intent, C extends SharedConfig>(
  executors: ExecutorMap<I, C>,
  kind: I['kind'],
): Executor<I, C> {
  // The mapped type guarantees an executor per kind; TypeScript cannot correlate the key with the value.
  return (executors as unknown as Record<string, Executor<I, C>>)[kind] as Executor<I, C>;
}

/** A mutation that would not finish (and be recorded) before the invocation's deadline is not started. */
function deadlineRefusal(budgetMs: number): DeadlineError | undefined {
  const invocation = currentInvocation();
  if (!invocation) return undefined;
  if (invocation.signal.aborted) return new DeadlineError('the invocation timed out');
  const left = invocation.remainingMs();
  if (left >= budgetMs) return undefined;
  return new DeadlineError(
    `${left} ms left in the invocation; this action needs ${budgetMs} ms to finish and be recorded`,
  );
}

const OPEN: FreezeState = { closed: false };

/**
 * The change freeze over a live mutation: the stage's calendars and its rule's or detection's
 * (FunctionSpec.changeFreeze), each list read once per invocation (changeFreeze.ts keeps answers a
 * minute across invocations). An intent that ignores the freeze, and a stage without calendars, ask nothing.
 */
function freezeCheck<I extends Intent, C extends SharedConfig>(
  cfg: C,
  scopeOf: ((intent: I, config: C) => FreezeScope) | undefined,
): (intent: I) => Promise<FreezeState> {
  const states = new Map<string, Promise<FreezeState>>();
  return (intent) => {
    const calendars = calendarsFor(cfg.changeCalendars, scopeOf?.(intent, cfg) ?? {});
    if (calendars.length === 0) return Promise.resolve(OPEN);
    const key = calendars.join('\n');
    let state = states.get(key);
    if (state === undefined) {
      state = changeFreezeState(calendars);
      states.set(key, state);
    }
    return state;
  };
}

/** Which intents of a run wait for approval, and the function (registry name) that owns them. */
export interface ApprovalGate<I extends Intent> {
  owner: string;
  need: (intent: I) => ApprovalNeed | undefined;
}

export async function execute<I extends Intent, C extends SharedConfig>(
  plan: Pick<Plan<I, unknown>, 'intents'>,
  executors: ExecutorMap<I, C>,
  signal: Signal,
  cfg: C,
  forcedDryRun: string | undefined,
  freezeScope?: (intent: I, config: C) => FreezeScope,
  approval?: ApprovalGate<I>,
): Promise<{ outcomes: Outcome[]; deadline?: DeadlineError }> {
  const outcomes: Outcome[] = [];
  const forced = forcedDryRun ? { forcedDryRun } : {};
  const freezeOf = freezeCheck(cfg, freezeScope);
  // In plan order: a page reports what the runbook before it came to.
  for (const intent of plan.intents) {
    const ctx: ExecutionContext<C> = { config: cfg, signal, prior: [...outcomes], ...forced };
    const executor = executorFor(executors, intent.kind);
    if (!executor.mutates) {
      throwIfAborted();
      outcomes.push(await executor.execute(intent, ctx));
      continue;
    }
    // Another account's resource is refused here, once, whatever planned it (and in dry-run too: the
    // preview of an action on another account would be a lie).
    const foreign = foreignArnOf(intent, signal);
    if (foreign) {
      outcomes.push(
        skipped(
          intent.kind,
          'out-of-scope',
          `not done: would ${executor.preview(intent, ctx)}; it names ${foreign.arn}, of account ${foreign.account}, and this event is account ${signal.account}'s: an action touches only its own event's account`,
        ),
      );
      continue;
    }
    // Dry-run is enforced here, once: a mutating executor is never called, it only describes itself.
    if (cfg.dryRun) {
      const by = forcedDryRun ? ` (${forcedDryRun})` : '';
      outcomes.push(skipped(intent.kind, 'dry-run', `would ${executor.preview(intent, ctx)}${by}`));
      continue;
    }
    // Then the change freeze: a CLOSED (or unreadable) calendar makes this one action a preview.
    const freeze = await freezeOf(intent);
    // A read the invocation's deadline aborted is no freeze: the deadline below fails it for a retry.
    if (freeze.closed && !currentInvocation()?.signal.aborted) {
      const why = freezeReason(freeze);
      logger.warn('change freeze: action previewed', { kind: intent.kind, calendar: freeze.calendar, why });
      outcomes.push(skipped(intent.kind, 'change-freeze', `would ${executor.preview(intent, ctx)} (${why})`));
      continue;
    }
    // ── Approval gate ── after dry-run and the kill switch (which made the run dry above), before the
    // deadline, the rate guard and the executor: an action that needs a person is recorded as pending
    // instead. The change-freeze check belongs before this gate: under a closed calendar no approval
    // is created.
    const need = approval?.need(intent);
    if (need) {
      // approveAction checks the same calendars again when the approval comes (freeze first, then too).
      const freezeOfIntent = freezeScope?.(intent, cfg);
      const recorded = freezeOfIntent
        ? { ...need, recheck: { ...need.recheck, freeze: freezeOfIntent } }
        : need;
      outcomes.push(
        await awaitApproval(approval?.owner ?? cfg.functionName, executor, intent, ctx, recorded),
      );
      continue;
    }
    const late = deadlineRefusal(executor.budgetMs);
    if (late) {
      // Stop here: the rest of the plan (its page included) runs on Lambda's retry, with time to finish.
      outcomes.push(failed(intent.kind, late, `not started: would ${executor.preview(intent, ctx)}`));
      return { outcomes, deadline: late };
    }
    outcomes.push(...(await guardedExecute(executor, intent, ctx)));
  }
  return { outcomes };
}

/**
 * The kill switch, read only when it could change something: a live run with a mutation planned. A
 * forced run is dry for every mutating intent of the plan, and says why.
 */
async function forcedDryRunOf<I extends Intent, C extends SharedConfig>(
  plan: Plan<I, unknown>,
  executors: ExecutorMap<I, C>,
  cfg: SharedConfig,
  accountDryRun: string | undefined,
): Promise<string | undefined> {
  if (cfg.dryRun || !plan.intents.some((i) => executorFor(executors, i.kind).mutates)) return undefined;
  // The account's own mode (an organization's stage) makes it dry already; the switch is not needed.
  if (accountDryRun) {
    logger.warn('account dry-run', { why: accountDryRun });
    return accountDryRun;
  }
  const mode = await readKillSwitch(cfg.stage);
  if (!mode.forced) return undefined;
  logger.warn('forced dry-run', { parameter: mode.parameter, why: mode.why });
  return `Forced dry-run by ${mode.parameter}: ${mode.why}`;
}

/**
 * The counts each executor declares (done; refused by reason, by itself or by a plan note that withheld
 * it), every declared metric included at zero, so dashboards see a steady series.
 */
export function executorCounts<I extends Intent, C extends SharedConfig = SharedConfig>(
  executors: ExecutorMap<I, C>,
  outcomes: readonly Outcome[],
  notes: readonly PlanNote[],
): Map<string, number> {
  const counts = new Map<string, number>();
  const all = Object.values(executors) as Executor<I, C>[];
  for (const e of all) {
    if (e.metrics?.done) counts.set(e.metrics.done, 0);
    for (const name of Object.values(e.metrics?.refused ?? {})) if (name) counts.set(name, 0);
  }
  const add = (name: string | undefined) => {
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  };
  for (const o of outcomes) {
    const m = executorFor(executors, o.kind as I['kind'])?.metrics;
    if (o.status === 'done') add(m?.done);
    if (o.status === 'skipped' && o.reason) add(m?.refused?.[o.reason]);
  }
  for (const n of notes) {
    if (n.withheld) add(executorFor(executors, n.withheld as I['kind'])?.metrics?.refused?.[n.reason]);
  }
  return counts;
}

function report<I extends Intent, C extends SharedConfig>(
  signal: Signal,
  result: PipelineResult,
  executors: ExecutorMap<I, C>,
): void {
  tracer.putAnnotation('signalKind', signal.kind);
  tracer.putAnnotation('correlationId', signal.correlationId);
  for (const [name, n] of executorCounts(executors, result.outcomes, result.notes)) {
    metrics.addMetric(name, MetricUnit.Count, n);
  }
  // Runtime guards, for every function: always emitted, so dashboards see a steady series.
  metrics.addMetric('ForcedDryRun', MetricUnit.Count, result.forcedDryRun ? 1 : 0);
  metrics.addMetric(
    'ActionsChangeFreeze',
    MetricUnit.Count,
    result.outcomes.filter((o) => o.reason === 'change-freeze').length,
  );
  metrics.addMetric(
    'ActionsRateLimited',
    MetricUnit.Count,
    result.outcomes.filter((o) => o.reason === 'rate-limited').length,
  );
  metrics.addMetric(
    'ActionsFailed',
    MetricUnit.Count,
    result.outcomes.filter((o) => o.status === 'failed').length,
  );
  logger.info('decision', {
    correlationId: signal.correlationId,
    signalKind: signal.kind,
    incidentKey: signal.incidentKey,
    severity: signal.severity,
    dryRun: result.dryRun,
    ...(result.forcedDryRun ? { forcedDryRun: result.forcedDryRun } : {}),
    outcomes: result.outcomes.map(({ kind, status, reason, detail }) => ({ kind, status, reason, detail })),
    notes: result.notes,
  });
}

export interface RunOptions {
  /**
   * Takes a successful delivery's action log to write with the delivery's idempotency completion, in
   * one round trip (DeliveryLeaseStore.completeWith); false when it cannot, and the log is written here.
   */
  logWithCompletion?: (entries: ActionLogEntry[]) => boolean;
}

/** Runs one event through a function's steps and reports it; throws when an action failed. */
export async function runFunction<
  S extends z.ZodType,
  Facts,
  Gathered,
  I extends Intent,
  Findings,
  L extends readonly FunctionSettings[],
>(
  spec: FunctionSpec<S, Facts, Gathered, I, Findings, L>,
  event: z.output<S>,
  site: InvocationSite,
  options: RunOptions = {},
): Promise<PipelineResult<Findings>> {
  const functionCfg = functionConfig(spec.settings);
  // A member's event is observed where it happened, and acted on there (shared/organization/).
  const acting =
    (functionCfg.organization && spec.actingSite?.(event, site)) ??
    actingSiteOf(event, site, functionCfg.organization);
  const observation = spec.observe(event, { site: acting, config: functionCfg });
  const { signal } = observation;
  logger.appendKeys({ correlationId: signal.correlationId });
  const account = await accountDecision(signal, acting, site, functionCfg);
  if (account.act === 'nothing') return actOnNothing(spec, signal, functionCfg, account, options);
  if (account.act === 'here')
    return decideAndAct(spec, observation, account.config, account.dryRunBy, options);
  // A member's pages name the account: its name and OU path are read with the facts, before anything
  // is decided (each kept an hour per account, so most events read neither).
  const { target } = account;
  return actInTarget(target, async () => {
    const [name, ouPath] = await Promise.all([accountNameOf(target.account), ouPathOf(target.account)]);
    const labels: AccountLabels = { ...(name ? { name } : {}), ...(ouPath ? { ouPath } : {}) };
    return decideAndAct(spec, observation, account.config, account.dryRunBy, options, labels);
  });
}

/**
 * An event the organization's rules give nothing to (its account is off, or not served): nothing
 * gathered, planned or done; the notes say why in the action log, and a not-served account is paged
 * once a day (its page's incident is the account and the day, its window a day).
 */
async function actOnNothing<
  S extends z.ZodType,
  Facts,
  Gathered,
  I extends Intent,
  Findings,
  L extends readonly FunctionSettings[],
>(
  spec: FunctionSpec<S, Facts, Gathered, I, Findings, L>,
  signal: Signal,
  cfg: RuntimeConfig<L>,
  { notes, page }: { notes: PlanNote[]; page?: PageIntent },
  options: RunOptions,
): Promise<PipelineResult<Findings>> {
  const outcomes: Outcome[] = [];
  if (page) {
    const paging = { ...cfg.paging, suppressionWindowMinutes: NOT_SERVED_WINDOW_MINUTES };
    outcomes.push(await pageExecutor.execute(page, { config: { ...cfg, paging }, signal, prior: [] }));
  }
  const result: PipelineResult<Findings> = {
    correlationId: signal.correlationId,
    signal: {
      kind: signal.kind,
      title: signal.title,
      severity: signal.severity,
      incidentKey: signal.incidentKey,
    },
    dryRun: cfg.dryRun,
    outcomes,
    notes,
  };
  report(signal, result, spec.executors);
  const entries = actionLogEntries(
    signal,
    cfg.functionName,
    cfg.dryRun,
    notes,
    outcomes,
    cfg.actionLogRetentionDays,
  );
  const failing = outcomes.some((o) => o.status === 'failed');
  if (failing || !options.logWithCompletion?.(entries)) await writeActionLog(entries);
  if (failing) throw new ActionFailedError(result);
  return result;
}

/** gather -> plan -> execute -> report, with the run's configuration, in the account it acts in. */
async function decideAndAct<
  S extends z.ZodType,
  Facts,
  Gathered,
  I extends Intent,
  Findings,
  L extends readonly FunctionSettings[],
>(
  spec: FunctionSpec<S, Facts, Gathered, I, Findings, L>,
  observation: Observation<Facts>,
  cfg: RuntimeConfig<L>,
  accountDryRun: string | undefined,
  options: RunOptions,
  accountLabels?: AccountLabels,
): Promise<PipelineResult<Findings>> {
  const { signal } = observation;
  const gathered = await spec.gather.read({ ...observation, config: cfg });
  throwIfAborted();
  const planWith = (config: RuntimeConfig<L>) => {
    const decided = spec.plan({ ...observation, gathered, config });
    return accountLabels ? withAccountLabels(decided, accountLabels) : decided;
  };
  const firstPlan = planWith(cfg);
  // A plan may make a run dry on a live stage (a manual payload asked for it), never live on a dry stage.
  const planned = firstPlan.dryRun === true && !cfg.dryRun ? { ...cfg, dryRun: true } : cfg;
  // The kill switch may make it dry too, without a deploy; nothing makes a dry run live.
  const forcedDryRun = await forcedDryRunOf(firstPlan, spec.executors, planned, accountDryRun);
  const runConfig = forcedDryRun ? { ...planned, dryRun: true } : planned;
  // A run made dry after it was planned (its account's mode, the kill switch) is planned again, dry:
  // planning is pure, and what the plan writes (a page's subject) then says what the run does.
  const plan = forcedDryRun ? planWith(runConfig) : firstPlan;
  const approvalOf = spec.approval;
  const gate = approvalOf ? { owner: spec.name, need: (i: I) => approvalOf(i, cfg) } : undefined;
  const { outcomes, deadline } = await execute(
    plan,
    spec.executors,
    signal,
    runConfig,
    forcedDryRun,
    spec.changeFreeze,
    gate,
  );
  const findings =
    plan.findings !== undefined && spec.settle ? spec.settle(plan.findings, outcomes) : plan.findings;
  const result: PipelineResult<Findings> = {
    correlationId: signal.correlationId,
    signal: {
      kind: signal.kind,
      title: signal.title,
      severity: signal.severity,
      incidentKey: signal.incidentKey,
    },
    dryRun: runConfig.dryRun,
    ...(forcedDryRun ? { forcedDryRun } : {}),
    outcomes,
    notes: plan.notes,
    ...(findings !== undefined ? { findings } : {}),
  };
  report(signal, result, spec.executors);
  spec.measure?.(result);
  const entries = actionLogEntries(
    signal,
    cfg.functionName,
    runConfig.dryRun,
    plan.notes,
    outcomes,
    cfg.actionLogRetentionDays,
    forcedDryRun,
  );
  const failing = deadline !== undefined || outcomes.some((o) => o.status === 'failed');
  // A failing delivery completes nothing (its record is deleted for the retry): its log goes now.
  if (failing || !options.logWithCompletion?.(entries)) await writeActionLog(entries);
  if (deadline) throw deadline;
  if (failing) throw new ActionFailedError(result);
  return result;
}
