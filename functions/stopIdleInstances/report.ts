import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logVerdicts, stoppedInstances } from '#shared/idle/report.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import type { IdleScanFindings } from './plan.ts';

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

/**
 * A scheduled run's stored idempotency record must stay under DynamoDB's 400 KB item limit: its
 * result keeps the counts and stops, and the verdicts go to the log. A manual invoke returns them all.
 */
export function withoutVerdicts(result: PipelineResult<IdleScanFindings>): PipelineResult<IdleScanFindings> {
  if (!result.findings) return result;
  const { verdicts: _logged, ...findings } = result.findings;
  return { ...result, findings };
}
