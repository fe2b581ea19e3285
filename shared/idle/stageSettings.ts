import { z } from 'zod';
import { ApprovalRequirement } from '#shared/approval/settings.ts';
import { ChangeCalendars } from '#shared/runtime/changeCalendarSettings.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * The idle stopper's stage settings (`idleStop`), which stopIdleInstances and onCostAnomaly's stops both
 * judge by; a stage that says nothing gets these defaults. config/stageConfig.ts composes them into a
 * stage's configuration, so only zod here: nothing that imports the configuration. How a manual payload
 * may override them is `functions/stopIdleInstances/settings.ts`.
 */
export const IdleStopSettings = z.strictObject({
  /** `opt-in`: only instances tagged ops:auto-stop=true; `opt-out`: all but those tagged false. */
  scope: z.enum(['opt-in', 'opt-out']).default('opt-in'),
  lookbackHours: z.number().int().min(1).max(168).default(24),
  /** Every hourly CPUUtilization maximum must stay below this. */
  cpuThresholdPercent: z.number().gt(0).max(100).default(5),
  /** NetworkIn + NetworkOut per hour must stay below this (5 MB: heartbeats and agents, no real traffic). */
  networkThresholdBytesPerHour: z.number().int().min(0).default(5_000_000),
  /** Share of the window's hours that need a datapoint; fewer means "not enough data", never stopped. */
  minCoverage: z.number().min(0.5).max(1).default(0.9),
  /**
   * Blast radius: at most this many stops in any rolling hour, across every run (scheduled and manual);
   * the other idle instances are reported as capped.
   */
  maxStopsPerHour: z.number().int().min(0).max(1000).default(10),
  /**
   * SSM Change Calendars that hold idle stops back while CLOSED, besides the stage's `changeCalendars`:
   * stopIdleInstances' and onCostAnomaly's, since both stop idle instances.
   */
  changeCalendars: ChangeCalendars.optional(),
  /**
   * `'required'`: a run's stops wait for a person (approveAction) instead of happening: one pending
   * approval per scan run (and per cost anomaly page) covering its whole stop list. Off by default.
   */
  approval: ApprovalRequirement,
  /** How far a manual payload may make a run more aggressive than the settings above. */
  overrides: z
    .strictObject({
      /** A shorter window is less evidence: a manual lookback may not go below this. */
      minLookbackHours: z.number().int().min(1).max(168).default(6),
      /** A higher CPU threshold calls more instances idle: a manual value may not exceed this. */
      maxCpuThresholdPercent: z.number().gt(0).max(100).default(10),
      maxNetworkThresholdBytesPerHour: z.number().int().min(0).default(50_000_000),
    })
    .prefault({}),
});
export type IdleStopSettings = z.infer<typeof IdleStopSettings>;

/** stopIdleInstances's key in a stage. */
export const settings = functionSettings({ idleStop: IdleStopSettings.prefault({}) });
