import type { Scope } from './exclusions.ts';
import type { IdlePolicy } from './idleness.ts';
import type { IdleStopSettings } from './stageSettings.ts';

/** What a stop decision is judged by, whichever function decides: the instances in scope, the idle rule, the hourly limit. */
export interface IdleStopRule {
  scope: Scope;
  policy: IdlePolicy;
  /** Stops allowed in any rolling hour, across every function that stops (one budget for the account). */
  maxStopsPerHour: number;
}

/** The stage's idle rule: what every function that stops idle instances judges them by. */
export function stageIdlePolicy(s: IdleStopSettings): IdlePolicy {
  return {
    lookbackHours: s.lookbackHours,
    cpuThresholdPercent: s.cpuThresholdPercent,
    networkThresholdBytesPerHour: s.networkThresholdBytesPerHour,
    minCoverage: s.minCoverage,
  };
}
