import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { IdleVerdict } from '#shared/idle/fleet.ts';
import { logVerdicts, refusedByStopProtection, stoppedInstances } from '#shared/idle/report.ts';
import { STOP_REFUSAL_REASON } from '#shared/idle/verdictTable.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import type { IdleScanFindings } from './plan.ts';

/** The run's EMF metrics (what was looked at, actually stopped, and what that saves) and its verdict log. */
export function measureIdleScan(result: PipelineResult<IdleScanFindings>): void {
  const verdicts = withStopRefusals(result).findings?.verdicts ?? [];
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

/**
 * The verdicts as the stops turned out: stop protection is not read before stopping, so an instance
 * whose StopInstances refused it for its protection is excluded ('stop-protection'), with the refusal as
 * its evidence, and no longer counted as a stop.
 */
export function withStopRefusals(result: PipelineResult<IdleScanFindings>): PipelineResult<IdleScanFindings> {
  const refused = refusedByStopProtection(result.outcomes);
  if (!result.findings || refused.size === 0) return result;
  const { findings } = result;
  const verdicts = findings.verdicts?.map(
    (v): IdleVerdict =>
      v.decision === 'stop' && refused.has(v.instanceId)
        ? {
            ...v,
            decision: 'excluded',
            exclusion: 'stop-protection',
            reason: `${STOP_REFUSAL_REASON} ${v.reason}`,
            estimatedMonthlySavingUsd: 0,
          }
        : v,
  );
  const stops = findings.stops.filter((s) => !refused.has(s.instanceId));
  const moved = findings.stops.length - stops.length;
  return {
    ...result,
    findings: {
      ...findings,
      stops,
      counts: {
        ...findings.counts,
        stop: findings.counts.stop - moved,
        excluded: findings.counts.excluded + moved,
      },
      ...(verdicts ? { verdicts } : {}),
    },
  };
}
