import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { config, type RuntimeConfig } from '#shared/config.ts';
import type { Intent, Plan, PlanNote } from '#shared/domain/intent.ts';
import { failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutionContext, Executor, ExecutorMap } from '#shared/executors/types.ts';
import { actionLogEntries, writeActionLog } from '#shared/state/actionLog.ts';
import { currentInvocation, DeadlineError, throwIfAborted } from './invocation.ts';
import { logger, metrics, tracer } from './powertools.ts';

/**
 * The one way through every function: signal (pure) -> gather (reads) -> plan (pure) ->
 * execute (the only writes) -> report. A function supplies the four steps; this runs them.
 */
export interface PipelineSpec<E, G, I extends Intent> {
  toSignal(event: E): Signal;
  gather(signal: Signal, event: E): Promise<G>;
  plan(input: { signal: Signal; gathered: G; config: RuntimeConfig }): Plan<I>;
  executors: ExecutorMap<I>;
  /** Function-specific metrics and logs, after the common report; also when an action failed. */
  measure?(result: PipelineResult): void;
}

export interface PipelineResult {
  correlationId: string;
  signal: Pick<Signal, 'kind' | 'title' | 'severity' | 'incidentKey'>;
  dryRun: boolean;
  outcomes: Outcome[];
  notes: PlanNote[];
  report?: Record<string, unknown>;
}

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

function executorFor<I extends Intent>(executors: ExecutorMap<I>, intent: I): Executor<I> {
  // The mapped type guarantees an executor per kind; TypeScript cannot correlate the key with the value.
  return (executors as unknown as Record<string, Executor<I>>)[intent.kind] as Executor<I>;
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
  plan: Plan<I>,
  executors: ExecutorMap<I>,
  signal: Signal,
  cfg: RuntimeConfig,
): Promise<{ outcomes: Outcome[]; deadline?: DeadlineError }> {
  const outcomes: Outcome[] = [];
  // In plan order: a page reports what the runbook before it came to.
  for (const intent of plan.intents) {
    const ctx: ExecutionContext = { config: cfg, signal, prior: [...outcomes] };
    const executor = executorFor(executors, intent);
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

function report(signal: Signal, result: PipelineResult): void {
  tracer.putAnnotation('signalKind', signal.kind);
  tracer.putAnnotation('correlationId', signal.correlationId);
  const count = (kind: string, status: Outcome['status']) =>
    result.outcomes.filter((o) => o.kind === kind && o.status === status).length;
  metrics.addMetric('PagesSent', MetricUnit.Count, count('sns.page', 'done'));
  metrics.addMetric(
    'PagesSuppressed',
    MetricUnit.Count,
    result.outcomes.filter((o) => o.reason === 'suppressed').length,
  );
  metrics.addMetric('RunbooksStarted', MetricUnit.Count, count('ssm.start-automation', 'done'));
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

export async function runPipeline<E, G, I extends Intent>(
  spec: PipelineSpec<E, G, I>,
  event: E,
): Promise<PipelineResult> {
  const cfg = config();
  const signal = spec.toSignal(event);
  logger.appendKeys({ correlationId: signal.correlationId });
  const gathered = await spec.gather(signal, event);
  throwIfAborted();
  const plan = spec.plan({ signal, gathered, config: cfg });
  // A plan may make a run dry on a live stage (a manual payload asked for it), never live on a dry stage.
  const runConfig = plan.dryRun === true && !cfg.dryRun ? { ...cfg, dryRun: true } : cfg;
  const { outcomes, deadline } = await execute(plan, spec.executors, signal, runConfig);
  const result: PipelineResult = {
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
    ...(plan.report ? { report: plan.report } : {}),
  };
  report(signal, result);
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
