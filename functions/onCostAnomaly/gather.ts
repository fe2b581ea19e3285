import type { RuntimeConfig } from '#shared/config.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { CostAnomalyFacts } from './signal.ts';

/** The reads gather makes. */
export const gatherPermissions = [] as const;

// biome-ignore lint/complexity/noBannedTypes: filled by the next steps.
export type CostAnomalyGathered = {};

/** Read-only. */
export async function gatherCostAnomaly(_input: {
  signal: Signal;
  facts: CostAnomalyFacts;
  config: RuntimeConfig;
}): Promise<CostAnomalyGathered> {
  return {};
}
