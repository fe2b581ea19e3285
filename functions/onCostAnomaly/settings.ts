import { z } from 'zod';
import type { RuntimeConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { Severity } from '#shared/domain/severity.ts';
import { type IdleStopSettings, settings as idleStopSettings } from '#shared/idle/stageSettings.ts';
import { ChangeCalendars, calendarsOf } from '#shared/runtime/changeCalendarSettings.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * onCostAnomaly's stage settings (`costAnomaly`). config/stageConfig.ts composes them into a stage's
 * configuration, so only zod and pure domain modules here.
 */

/**
 * Stopping the account's opted-in idle instances when an anomaly is large enough. Off by default; it
 * takes a separate threshold that may not be below the page's, since a stop is the heavier action.
 */
export const CostAnomalyStopSettings = z.strictObject({
  enabled: z.boolean().default(false),
  /** Total impact in US dollars an anomaly must reach (besides paging) before instances are stopped. */
  minImpactDollars: z.number().finite().min(0).default(1000),
  /** When set, the impact percentage must reach it too; when not, dollars alone decide. */
  minImpactPercent: z.number().finite().min(0).optional(),
  /** SSM Change Calendars that hold these stops back while CLOSED, besides the stage's and `idleStop`'s. */
  changeCalendars: ChangeCalendars.optional(),
});
export type CostAnomalyStopSettings = z.infer<typeof CostAnomalyStopSettings>;

export const CostAnomalySettings = z
  .strictObject({
    /** Total impact (actual minus expected spend) in US dollars an anomaly must reach to page. */
    minImpactDollars: z.number().finite().min(0).default(100),
    /** Total impact as a percentage of the expected spend an anomaly must reach to page. */
    minImpactPercent: z.number().finite().min(0).default(20),
    /** `both`: both thresholds must pass; `either`: one is enough. */
    require: z.enum(['both', 'either']).default('both'),
    severity: Severity.default('warning'),
    stopIdle: CostAnomalyStopSettings.prefault({}),
  })
  .superRefine((s, ctx) => {
    // A stop threshold below the page's would stop instances for an anomaly nobody was paged about.
    if (s.stopIdle.minImpactDollars < s.minImpactDollars) {
      ctx.addIssue({
        code: 'custom',
        path: ['stopIdle', 'minImpactDollars'],
        message:
          `${s.stopIdle.minImpactDollars} is below the page threshold costAnomaly.minImpactDollars ` +
          `(${s.minImpactDollars}): stopping instances must take at least as large an anomaly as paging`,
      });
    }
    const percent = s.stopIdle.minImpactPercent;
    if (percent !== undefined && percent < s.minImpactPercent) {
      ctx.addIssue({
        code: 'custom',
        path: ['stopIdle', 'minImpactPercent'],
        message:
          `${percent} is below the page threshold costAnomaly.minImpactPercent ` +
          `(${s.minImpactPercent}): stopping instances must take at least as large an anomaly as paging`,
      });
    }
  });
export type CostAnomalySettings = z.infer<typeof CostAnomalySettings>;

interface CostAnomalyStops {
  idleStop: IdleStopSettings;
  costAnomaly: { stopIdle: CostAnomalyStopSettings };
}

/** An anomaly's stops are held by the idle stopper's calendars and the anomaly stop's own (the stage's are the runtime's). */
export function costAnomalyFreezeScope(intent: Intent, config: CostAnomalyStops): FreezeScope {
  if (intent.kind !== 'ec2.stop-instances') return {};
  return {
    calendars: calendarsOf(config.idleStop.changeCalendars, config.costAnomaly.stopIdle.changeCalendars),
  };
}

/** The calendars onCostAnomaly may read on a stage: none unless it stops instances (its role's grant). */
export function costAnomalyChangeCalendars(
  stage: CostAnomalyStops & { changeCalendars: readonly string[] },
): string[] {
  if (!stage.costAnomaly.stopIdle.enabled) return [];
  return calendarsOf(
    stage.changeCalendars,
    stage.idleStop.changeCalendars,
    stage.costAnomaly.stopIdle.changeCalendars,
  );
}

/** onCostAnomaly's key in a stage. */
export const settings = functionSettings({ costAnomaly: CostAnomalySettings.prefault({}) });

/** The stage settings onCostAnomaly reads (its own and the idle stopper's it runs): its spec's `settings`, all the runtime parses for it. */
export const specSettings = [settings, idleStopSettings] as const;
/** onCostAnomaly's configuration: the shared keys and those of its spec's settings, no other function's. */
export type CostAnomalyConfig = RuntimeConfig<typeof specSettings>;
