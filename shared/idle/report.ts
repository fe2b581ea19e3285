import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Outcome } from '#shared/domain/outcome.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { logger, metrics } from '#shared/runtime/powertools.ts';
import type { IdleVerdict } from './fleet.ts';
import type { IdleScanFindings } from './plan.ts';

/** Verdicts per log entry: a CloudWatch Logs event holds 256 KB, a fleet of 5000 needs several. */
const VERDICTS_PER_LOG_ENTRY = 200;

/** The run's EMF metrics (what was looked at, actually stopped, and what that saves) and its verdict log. */
export function measureIdleScan(result: PipelineResult<IdleScanFindings>): void {
  const verdicts = result.findings?.verdicts ?? [];
  const stopped = stoppedInstances(result.outcomes);
  const saving = verdicts
    .filter((v) => stopped.has(v.instanceId) && typeof v.estimatedMonthlySavingUsd === 'number')
    .reduce(
      (sum, v) => sum + (typeof v.estimatedMonthlySavingUsd === 'number' ? v.estimatedMonthlySavingUsd : 0),
      0,
    );
  metrics.addMetric('InstancesConsidered', MetricUnit.Count, verdicts.length);
  metrics.addMetric('InstancesStopped', MetricUnit.Count, stopped.size);
  metrics.addMetric('EstimatedMonthlySavings', MetricUnit.NoUnit, Math.round(saving * 100) / 100);
  logVerdicts(verdicts);
}

/** The instances a decision's stop outcome says it stopped (by this attempt or an earlier one). */
export function stoppedInstances(outcomes: readonly Outcome[]): Set<string> {
  const refs = outcomes.find((o) => o.kind === 'ec2.stop-instances')?.refs ?? {};
  return new Set(Object.keys(refs).filter((id) => refs[id]?.startsWith('stopped')));
}

/** Every verdict of a stop decision in the log, in parts small enough for a log event. */
export function logVerdicts(verdicts: readonly IdleVerdict[]): void {
  const parts = Math.ceil(verdicts.length / VERDICTS_PER_LOG_ENTRY);
  for (let i = 0; i < parts; i++) {
    const slice = verdicts.slice(i * VERDICTS_PER_LOG_ENTRY, (i + 1) * VERDICTS_PER_LOG_ENTRY);
    logger.info('idle verdicts', {
      part: `${i + 1}/${parts}`,
      verdicts: slice.map(({ instanceId, decision, reason }) => ({ instanceId, decision, reason })),
    });
  }
}

/**
 * A scheduled run's stored idempotency record must stay under DynamoDB's 400 KB item limit: its
 * result keeps the counts and stops, and the verdicts go to the log. A manual invoke returns them all.
 */
export function withoutVerdicts(result: PipelineResult<IdleScanFindings>): PipelineResult<IdleScanFindings> {
  if (!result.findings) return result;
  const { verdicts: _logged, ...findings } = result.findings;
  return { ...result, findings };
}
