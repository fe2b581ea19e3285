import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import { config, type RuntimeConfig } from '#shared/config.ts';
import type { Intent, Plan, PlanNote } from '#shared/domain/intent.ts';
import { failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutionContext, Executor, ExecutorMap } from '#shared/executors/types.ts';
import { actionLogEntries, writeActionLog } from '#shared/state/actionLog.ts';
import type { FunctionSpec, InvocationSite, PipelineResult } from './functionSpec.ts';
import { currentInvocation, DeadlineError, throwIfAborted } from './invocation.ts';
import { logger, metrics, tracer } from './powertools.ts';

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

function executorFor<I extends Intent>(executors: ExecutorMap<I>, kind: I['kind']): Executor<I> {
  // The mapped type guarantees an executor per kind; TypeScript cannot correlate the key with the value.
  return (executors as unknown as Record<string, Executor<I>>)[kind] as Executor<I>;
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

async function execute<I extends Intent>(
  plan: Plan<I, unknown>,
  executors: ExecutorMap<I>,
  signal: Signal,
  cfg: RuntimeConfig,
): Promise<{ outcomes: Outcome[]; deadline?: DeadlineError }> {
  const outcomes: Outcome[] = [];
  // In plan order: a page reports what the runbook before it came to.
  for (const intent of plan.intents) {
    const ctx: ExecutionContext = { config: cfg, signal, prior: [...outcomes] };
    const executor = executorFor(executors, intent.kind);
    if (!executor.mutates) {
      throwIfAborted();
      outcomes.push(await executor.execute(intent, ctx));
      continue;
    }
    // Dry-run is enforced here, once: a mutating executor is never called, it only describes itself.
    if (cfg.dryRun) {
      outcomes.push(skipped(intent.kind, 'dry-run', `would ${executor.preview(intent, ctx)}`));
      continue;
    }
    const late = deadlineRefusal(executor.budgetMs);
    if (late) {
      // Stop here: the rest of the plan (its page included) runs on Lambda's retry, with time to finish.
      outcomes.push(failed(intent.kind, late, `not started: would ${executor.preview(intent, ctx)}`));
      return { outcomes, deadline: late };
    }
    outcomes.push(await executor.execute(intent, ctx));
  }
  return { outcomes };
}

/**
 * The counts each executor declares (done; refused by reason, by itself or by a plan note that withheld
 * it), every declared metric included at zero, so dashboards see a steady series.
 */
export function executorCounts<I extends Intent>(
  executors: ExecutorMap<I>,
  outcomes: readonly Outcome[],
  notes: readonly PlanNote[],
): Map<string, number> {
  const counts = new Map<string, number>();
  const all = Object.values(executors) as Executor<I>[];
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

function report<I extends Intent>(signal: Signal, result: PipelineResult, executors: ExecutorMap<I>): void {
  tracer.putAnnotation('signalKind', signal.kind);
  tracer.putAnnotation('correlationId', signal.correlationId);
  for (const [name, n] of executorCounts(executors, result.outcomes, result.notes)) {
    metrics.addMetric(name, MetricUnit.Count, n);
  }
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
    outcomes: result.outcomes.map(({ kind, status, reason, detail }) => ({ kind, status, reason, detail })),
    notes: result.notes,
  });
}

/** Runs one event through a function's steps and reports it; throws when an action failed. */
export async function runFunction<S extends z.ZodType, Facts, Gathered, I extends Intent, Findings>(
  spec: FunctionSpec<S, Facts, Gathered, I, Findings>,
  event: z.output<S>,
  site: InvocationSite,
): Promise<PipelineResult<Findings>> {
  const cfg = config();
  const observation = spec.observe(event, { site, config: cfg });
  const { signal } = observation;
  logger.appendKeys({ correlationId: signal.correlationId });
  const gathered = await spec.gather.read({ ...observation, config: cfg });
  throwIfAborted();
  const plan = spec.plan({ ...observation, gathered, config: cfg });
  // A plan may make a run dry on a live stage (a manual payload asked for it), never live on a dry stage.
  const runConfig = plan.dryRun === true && !cfg.dryRun ? { ...cfg, dryRun: true } : cfg;
  const { outcomes, deadline } = await execute(plan, spec.executors, signal, runConfig);
  const result: PipelineResult<Findings> = {
    correlationId: signal.correlationId,
    signal: {
      kind: signal.kind,
      title: signal.title,
      severity: signal.severity,
      incidentKey: signal.incidentKey,
    },
    dryRun: runConfig.dryRun,
    outcomes,
    notes: plan.notes,
    ...(plan.findings !== undefined ? { findings: plan.findings } : {}),
  };
  report(signal, result, spec.executors);
  spec.measure?.(result);
  await writeActionLog(
    actionLogEntries(
      signal,
      cfg.functionName,
      runConfig.dryRun,
      plan.notes,
      outcomes,
      cfg.actionLogRetentionDays,
    ),
  );
  if (deadline) throw deadline;
  if (outcomes.some((o) => o.status === 'failed')) throw new ActionFailedError(result);
  return result;
}
