import { describeError } from '#shared/domain/errorText.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { IdleStopsGathered } from '#shared/idle/gather.ts';
import { gatherPermissions as idleStopReads } from '#shared/idle/readPermissions.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { type BudgetsGathered, readBudgets } from './budgets.ts';
import { cents, lastPagedImpact, type PagedImpact } from './pageClaim.ts';
import type { CostAnomalyConfig } from './settings.ts';
import type { CostAnomalyFacts } from './signal.ts';
import { anomalyStopRequest, stopScope } from './stopIdle.ts';
import { thresholdVerdict } from './thresholds.ts';

/** The reads gather makes: the anomaly's page record (on a stage that may stop), the account's budgets. */
export const gatherPermissions = ['dynamodb:GetItem', 'budgets:ViewBudget'] as const;

/** The reads of the idle stopper, made only on a stage that turns `costAnomaly.stopIdle` on. */
export const stopIdleReadPermissions = idleStopReads;

export interface CostAnomalyGathered {
  /** The largest impact paged for this anomaly so far, when one was and gather read it (see below). */
  lastPaged?: PagedImpact;
  /** The budgets covering the affected accounts, or why they could not be read; only for a page. */
  budgets?: BudgetsGathered;
  /** The idle stopper's reads, or why they failed; only for a page that may stop instances. */
  fleet?: IdleStopsGathered | { unavailable: string };
}

/**
 * Read-only: what was paged for this anomaly before, and for an anomaly that will page, the budgets it
 * endangers and, when it may stop instances here, the fleet as the idle stopper reads it. The plan
 * decides again from the same data; this only spares the calls otherwise.
 */
export async function gatherCostAnomaly(input: {
  signal: Signal;
  facts: CostAnomalyFacts;
  config: CostAnomalyConfig;
}): Promise<CostAnomalyGathered> {
  const { signal, facts, config: cfg } = input;
  if (!thresholdVerdict(facts, cfg.costAnomaly).passes) return {};
  const mayStop = stopScope(facts, cfg.costAnomaly).decision === 'in-scope';
  // Only a stage that may stop reads what was paged before: its stops are made before the page's claim,
  // so they must not follow an update that will not page. Otherwise the claim's conditional write
  // decides, and its old item says what was paged, without a read of its own.
  const lastPaged = mayStop ? await lastPagedImpact(facts.anomalyId) : undefined;
  const ownRetry = lastPaged?.pagedBy === signal.correlationId;
  const willPage =
    !lastPaged || (ownRetry ? !lastPaged.sent : cents(facts.totalImpact) > lastPaged.impactCents);
  if (!willPage) return lastPaged ? { lastPaged } : {};
  const [budgets, fleet] = await Promise.all([
    readBudgets(signal.account, facts.affectedAccounts),
    mayStop
      ? // The fleet reads load the EC2 client: only on a stage that may stop, in a chunk of their own.
        import('#shared/idle/gather.ts')
          .then(({ gatherIdleStops }) => gatherIdleStops(anomalyStopRequest(facts, cfg)))
          .catch((error: unknown) => {
            // The page goes out without stops rather than not at all: it says why nothing was stopped.
            logger.warn('fleet unreadable: no instance stopped for the anomaly', { error });
            return { unavailable: describeError(error) };
          })
      : undefined,
  ]);
  return { ...(lastPaged ? { lastPaged } : {}), budgets, ...(fleet ? { fleet } : {}) };
}
