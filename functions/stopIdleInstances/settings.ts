import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { processRegion } from '#shared/config.ts';
import { InvalidEventError } from '#shared/runtime/middleware.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import type { Scope } from './exclusions.ts';
import type { IdlePolicy } from './idleness.ts';
import { type IdleScanEvent, isScheduled, type ManualScanPayload } from './schema.ts';
import type { IdleStopSettings } from './stageSettings.ts';

/** What one run does: the stage settings with the manual overrides applied. */
export interface IdleRun {
  trigger: 'schedule' | 'manual';
  dryRun: boolean;
  scope: Scope;
  policy: IdlePolicy;
  /** Stops allowed in any rolling hour, across runs; a manual payload may lower it for its own claim. */
  maxStopsPerHour: number;
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
    maxStopsPerHour: s.maxStopsPerHour,
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
  // Each numeric override: the stage's limit on it (a floor or a ceiling), and where it goes in the run.
  const limits: {
    key: 'lookbackHours' | 'cpuThresholdPercent' | 'networkThresholdBytesPerHour' | 'maxStopsPerHour';
    floor?: number;
    ceiling?: number;
    /** The stage setting that sets the limit, named in the error. */
    setting: string;
    unit: string;
    apply: (value: number) => void;
  }[] = [
    {
      key: 'lookbackHours',
      floor: o.minLookbackHours,
      setting: 'overrides.minLookbackHours',
      unit: ' hours',
      apply: (v) => (run.policy.lookbackHours = v),
    },
    {
      key: 'cpuThresholdPercent',
      ceiling: o.maxCpuThresholdPercent,
      setting: 'overrides.maxCpuThresholdPercent',
      unit: ' %',
      apply: (v) => (run.policy.cpuThresholdPercent = v),
    },
    {
      key: 'networkThresholdBytesPerHour',
      ceiling: o.maxNetworkThresholdBytesPerHour,
      setting: 'overrides.maxNetworkThresholdBytesPerHour',
      unit: ' bytes per hour',
      apply: (v) => (run.policy.networkThresholdBytesPerHour = v),
    },
    {
      key: 'maxStopsPerHour',
      ceiling: s.maxStopsPerHour,
      setting: 'maxStopsPerHour',
      unit: '',
      apply: (v) => (run.maxStopsPerHour = v),
    },
  ];
  for (const limit of limits) {
    const value = event[limit.key];
    if (value === undefined) continue;
    if (limit.floor !== undefined && value < limit.floor) {
      issues.push({
        path: limit.key,
        message: `${value} is below this stage's ${limit.setting} of ${limit.floor}${limit.unit}`,
      });
    }
    if (limit.ceiling !== undefined && value > limit.ceiling) {
      issues.push({
        path: limit.key,
        message: `${value} exceeds this stage's ${limit.setting} of ${limit.ceiling}${limit.unit}`,
      });
    }
    limit.apply(value);
    run.overrides[limit.key] = value;
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
  return { event, run: resolved.run, invocation: invocationOf(context) };
}

/** The account `sls invoke local` stands for: its context carries no function ARN. */
export const LOCAL_ACCOUNT = '000000000000';

/**
 * Account and region from the function ARN (arn:aws:lambda:<region>:<account>:function:<name>); a local
 * invoke has none, so the region comes from the environment and the account is a placeholder.
 */
export function invocationOf(
  context: Pick<Context, 'awsRequestId'> & { invokedFunctionArn?: string | undefined },
  region: string | undefined = processRegion(),
): Invocation {
  const [, , , arnRegion, arnAccount] = (context.invokedFunctionArn ?? '').split(':');
  return {
    requestId: context.awsRequestId ?? 'local',
    account: arnAccount || LOCAL_ACCOUNT,
    region: arnRegion || region || 'unknown',
  };
}
