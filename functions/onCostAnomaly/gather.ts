import type { RuntimeConfig } from '#shared/config.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { type BudgetsGathered, readBudgets } from './budgets.ts';
import { cents, lastPagedImpact, type PagedImpact } from './incident.ts';
import { thresholdVerdict } from './plan.ts';
import type { CostAnomalyFacts } from './signal.ts';

/** The reads gather makes: the anomaly's incident record, the account's budgets (DescribeBudgets). */
export const gatherPermissions = ['dynamodb:GetItem', 'budgets:ViewBudget'] as const;

export interface CostAnomalyGathered {
  /** The largest impact paged for this anomaly so far, when one was. */
  lastPaged?: PagedImpact;
  /** The budgets covering the affected accounts, or why they could not be read; only for a page. */
  budgets?: BudgetsGathered;
}

/**
 * Read-only: what was paged for this anomaly before, and for an anomaly that will page, the budgets it
 * endangers. The plan decides again from the same data; this only spares the Budgets call otherwise.
 */
export async function gatherCostAnomaly(input: {
  signal: Signal;
  facts: CostAnomalyFacts;
  config: RuntimeConfig;
}): Promise<CostAnomalyGathered> {
  const { signal, facts, config: cfg } = input;
  if (!thresholdVerdict(facts, cfg.costAnomaly).passes) return {};
  const lastPaged = await lastPagedImpact(facts.anomalyId);
  const ownRetry = lastPaged?.pagedBy === signal.correlationId;
  const willPage =
    !lastPaged || (ownRetry ? !lastPaged.sent : cents(facts.totalImpact) > lastPaged.impactCents);
  const budgets = willPage ? await readBudgets(signal.account, facts.affectedAccounts) : undefined;
  return { ...(lastPaged ? { lastPaged } : {}), ...(budgets ? { budgets } : {}) };
}
