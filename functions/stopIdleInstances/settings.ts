import type { OrganizationSettings } from '#config/organization.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import type { Scope } from '#shared/idle/exclusions.ts';
import type { IdlePolicy } from '#shared/idle/idleness.ts';
import { stageIdlePolicy } from '#shared/idle/rule.ts';
import { type IdleStopSettings, settings as idleStopSettings } from '#shared/idle/stageSettings.ts';
import { calendarsOf } from '#shared/runtime/changeCalendarSettings.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import { type IdleScanEvent, isScanTarget, isScheduled, type ManualScanPayload } from './schema.ts';

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
  /**
   * An organization's scheduled run: it scans nothing itself and queues one message per served
   * (account, region), each scanned by its own worker run.
   */
  fanOut?: true;
  /** A worker run: the one (account, region) of a scheduled run it scans. */
  target?: { run: string; account: string; region: string; scheduledAt: string };
}

export interface RunIssue {
  path: string;
  message: string;
}

export type RunResolution = { ok: true; run: IdleRun } | { ok: false; issues: RunIssue[] };

export interface StageForRun {
  dryRun: boolean;
  idleStop: IdleStopSettings;
  organization?: OrganizationSettings | undefined;
}

/**
 * The one place the limits on manual overrides live. A payload may always make a run safer (dry-run,
 * fewer stops, lower thresholds, a longer window) and more aggressive only within the stage's ceilings;
 * it may turn dry-run off only on a stage that is live.
 */
export function resolveIdleRun(event: IdleScanEvent, stage: StageForRun): RunResolution {
  const s = stage.idleStop;
  const base: IdleRun = {
    trigger: isScheduled(event) || isScanTarget(event) ? 'schedule' : 'manual',
    dryRun: stage.dryRun,
    scope: s.scope,
    policy: stageIdlePolicy(s),
    maxStopsPerHour: s.maxStopsPerHour,
    overrides: {},
  };
  if (isScanTarget(event)) {
    const { run, account, region, scheduledAt } = (event.Records[0] as (typeof event.Records)[number]).body;
    if (!stage.organization) {
      return {
        ok: false,
        issues: [{ path: 'Records.0.body', message: 'a scan target is only taken on an organization stage' }],
      };
    }
    if (!stage.organization.regions.includes(region)) {
      return {
        ok: false,
        issues: [
          {
            path: 'Records.0.body.region',
            message: `${region} is not one of organization.regions (${stage.organization.regions.join(', ')})`,
          },
        ],
      };
    }
    return { ok: true, run: { ...base, target: { run, account, region, scheduledAt } } };
  }
  // A manual invoke scans where it runs, on every stage; the schedule of an organization fans out.
  if (isScheduled(event)) return { ok: true, run: stage.organization ? { ...base, fanOut: true } : base };

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

/** A scan's stops are held by the idle stopper's calendars too (the stage's are the runtime's). */
export function idleStopFreezeScope(intent: Intent, config: { idleStop: IdleStopSettings }): FreezeScope {
  return intent.kind === 'ec2.stop-instances' ? { calendars: config.idleStop.changeCalendars ?? [] } : {};
}

/** The calendars stopIdleInstances may read on a stage (it may stop on any stage): its role's grant. */
export function idleStopChangeCalendars(stage: {
  changeCalendars: readonly string[];
  idleStop: IdleStopSettings;
}): string[] {
  return calendarsOf(stage.changeCalendars, stage.idleStop.changeCalendars);
}

/** The stage settings stopIdleInstances reads (the idle stopper's): its spec's `settings`, all the runtime parses for it. */
export const specSettings = [idleStopSettings] as const;
/** stopIdleInstances' configuration: the shared keys and the idle stopper's, no other function's. */
export type IdleScanConfig = RuntimeConfig<typeof specSettings>;
