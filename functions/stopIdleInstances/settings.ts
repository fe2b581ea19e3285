import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { IdleStopSettings } from '#shared/config.ts';
import { InvalidEventError } from '#shared/runtime/middleware.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { type IdleScanEvent, isScheduled, type ManualScanPayload } from './schema.ts';
import type { IdlePolicy, Scope } from './verdict.ts';

/** What one run does: the stage settings with the manual overrides applied. */
export interface IdleRun {
  trigger: 'schedule' | 'manual';
  dryRun: boolean;
  scope: Scope;
  policy: IdlePolicy;
  maxStopsPerRun: number;
  /** The manual overrides that were applied, as given: shown in the report. */
  overrides: Partial<Record<keyof ManualScanPayload, number | boolean>>;
}

export interface RunIssue {
  path: string;
  message: string;
}

export type RunResolution = { ok: true; run: IdleRun } | { ok: false; issues: RunIssue[] };

export interface StageForRun {
  dryRun: boolean;
  idleStop: IdleStopSettings;
}

/**
 * The one place the limits on manual overrides live. A payload may always make a run safer (dry-run,
 * fewer stops, lower thresholds, a longer window) and more aggressive only within the stage's ceilings;
 * it may turn dry-run off only on a stage that is live.
 */
export function resolveIdleRun(event: IdleScanEvent, stage: StageForRun): RunResolution {
  const s = stage.idleStop;
  const base: IdleRun = {
    trigger: isScheduled(event) ? 'schedule' : 'manual',
    dryRun: stage.dryRun,
    scope: s.scope,
    policy: {
      lookbackHours: s.lookbackHours,
      cpuThresholdPercent: s.cpuThresholdPercent,
      networkThresholdBytesPerHour: s.networkThresholdBytesPerHour,
      minCoverage: s.minCoverage,
    },
    maxStopsPerRun: s.maxStopsPerRun,
    overrides: {},
  };
  if (isScheduled(event)) return { ok: true, run: base };

  const issues: RunIssue[] = [];
  const run: IdleRun = { ...base, policy: { ...base.policy }, overrides: {} };
  const o = s.overrides;
  if (event.dryRun !== undefined) {
    if (!event.dryRun && stage.dryRun) {
      issues.push({ path: 'dryRun', message: 'false is not allowed: this stage runs in dry-run mode' });
    }
    run.dryRun = event.dryRun;
    run.overrides.dryRun = event.dryRun;
  }
  if (event.lookbackHours !== undefined) {
    if (event.lookbackHours < o.minLookbackHours) {
      issues.push({
        path: 'lookbackHours',
        message: `${event.lookbackHours} is below this stage's minimum of ${o.minLookbackHours} hours`,
      });
    }
    run.policy.lookbackHours = event.lookbackHours;
    run.overrides.lookbackHours = event.lookbackHours;
  }
  if (event.cpuThresholdPercent !== undefined) {
    if (event.cpuThresholdPercent > o.maxCpuThresholdPercent) {
      issues.push({
        path: 'cpuThresholdPercent',
        message: `${event.cpuThresholdPercent} exceeds this stage's ceiling of ${o.maxCpuThresholdPercent} %`,
      });
    }
    run.policy.cpuThresholdPercent = event.cpuThresholdPercent;
    run.overrides.cpuThresholdPercent = event.cpuThresholdPercent;
  }
  if (event.networkThresholdBytesPerHour !== undefined) {
    if (event.networkThresholdBytesPerHour > o.maxNetworkThresholdBytesPerHour) {
      issues.push({
        path: 'networkThresholdBytesPerHour',
        message: `${event.networkThresholdBytesPerHour} exceeds this stage's ceiling of ${o.maxNetworkThresholdBytesPerHour} bytes per hour`,
      });
    }
    run.policy.networkThresholdBytesPerHour = event.networkThresholdBytesPerHour;
    run.overrides.networkThresholdBytesPerHour = event.networkThresholdBytesPerHour;
  }
  if (event.maxStopsPerRun !== undefined) {
    if (event.maxStopsPerRun > s.maxStopsPerRun) {
      issues.push({
        path: 'maxStopsPerRun',
        message: `${event.maxStopsPerRun} exceeds this stage's maxStopsPerRun of ${s.maxStopsPerRun}`,
      });
    }
    run.maxStopsPerRun = event.maxStopsPerRun;
    run.overrides.maxStopsPerRun = event.maxStopsPerRun;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, run };
}

/** Where a run was invoked, from the Lambda context: a manual payload carries no account or region. */
export interface Invocation {
  requestId: string;
  account: string;
  region: string;
}

/** What the pipeline runs on: the parsed event, the run it resolved to, and where it runs. */
export interface IdleScanRequest {
  event: IdleScanEvent;
  run: IdleRun;
  invocation: Invocation;
}

/**
 * The request a run works on: the stage settings with the payload's overrides applied within their
 * limits. A payload beyond them is an invalid event (counted, named, nothing done).
 */
export function toIdleScanRequest(
  event: IdleScanEvent,
  context: Context,
  stage: StageForRun,
): IdleScanRequest {
  const resolved = resolveIdleRun(event, stage);
  if (!resolved.ok) {
    metrics.addMetric('InvalidEvent', MetricUnit.Count, 1);
    throw new InvalidEventError('stopIdleInstances', resolved.issues);
  }
  // arn:aws:lambda:<region>:<account>:function:<name>
  const [, , , region = '', account = ''] = context.invokedFunctionArn.split(':');
  return { event, run: resolved.run, invocation: { requestId: context.awsRequestId, account, region } };
}
