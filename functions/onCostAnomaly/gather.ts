import type { RuntimeConfig } from '#shared/config.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { lastPagedImpact, type PagedImpact } from './incident.ts';
import type { CostAnomalyFacts } from './signal.ts';

/** The reads gather makes: the anomaly's incident record. */
export const gatherPermissions = ['dynamodb:GetItem'] as const;

export interface CostAnomalyGathered {
  /** The largest impact paged for this anomaly so far, when one was. */
  lastPaged?: PagedImpact;
}

/** Read-only: what was paged for this anomaly before (only an anomaly that may page needs it). */
export async function gatherCostAnomaly(input: {
  signal: Signal;
  facts: CostAnomalyFacts;
  config: RuntimeConfig;
}): Promise<CostAnomalyGathered> {
  const lastPaged = await lastPagedImpact(input.facts.anomalyId);
  return lastPaged ? { lastPaged } : {};
}
