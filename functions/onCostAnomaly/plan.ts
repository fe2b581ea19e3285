import type { Plan, PlanNote, StopInstancesIntent } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { budgetLines } from './budgets.ts';
import type { CostAnomalyGathered } from './gather.ts';
import { type AnomalyPageIntent, asUpdate, cents } from './pageClaim.ts';
import { type CostAnomalyFacts, describeRootCause, dollars } from './signal.ts';
import { type AnomalyStopFindings, planAnomalyStops } from './stopIdle.ts';

export type CostAnomalyIntent = AnomalyPageIntent | StopInstancesIntent;

/** What became of the anomaly: the metric and the manual invoke's result say it. */
export interface CostAnomalyFindings {
  decision: 'page' | 'update' | 'below-threshold' | 'not-larger';
  thresholds: string;
  /** For an anomaly that pages: whether it stopped idle instances, which, and why (not). */
  stopIdle?: AnomalyStopFindings;
}

import type { CostAnomalyConfig } from './settings.ts';
import { thresholdVerdict } from './thresholds.ts';

/** Pure: page an anomaly above the stage's thresholds, record one below them. */
export function planCostAnomaly(input: {
  signal: Signal;
  facts: CostAnomalyFacts;
  gathered: CostAnomalyGathered;
  config: CostAnomalyConfig;
}): Plan<CostAnomalyIntent, CostAnomalyFindings> {
  const { signal, facts, gathered, config: cfg } = input;
  const settings = cfg.costAnomaly;
  const notes: PlanNote[] = [];
  const verdict = thresholdVerdict(facts, settings);
  if (!verdict.passes) {
    notes.push({
      decision: 'skipped',
      reason: 'nothing-to-do',
      detail: `below the stage's cost anomaly thresholds, recorded without a page: ${verdict.why}`,
      withheld: 'sns.page',
    });
    return { intents: [], notes, findings: { decision: 'below-threshold', thresholds: verdict.why } };
  }
  const impactCents = cents(facts.totalImpact);
  const last = gathered.lastPaged;
  // One incident per anomaly: an update pages only when its impact grew; this delivery's own retry
  // pages again until its page is recorded as sent.
  const ownRetry = last !== undefined && last.pagedBy === signal.correlationId;
  if (last && (ownRetry ? last.sent : impactCents <= last.impactCents)) {
    notes.push({
      decision: 'skipped',
      reason: 'suppressed',
      detail: ownRetry
        ? `this delivery already paged anomaly ${facts.anomalyId}`
        : `anomaly ${facts.anomalyId} was paged at ${dollars(last.impactCents / 100)}; this update (${dollars(facts.totalImpact)}) is not larger: counted, not paged`,
      withheld: 'sns.page',
    });
    return { intents: [], notes, findings: { decision: 'not-larger', thresholds: verdict.why } };
  }
  // A retry of this delivery's own update pages the same update: the impact before its claim was kept.
  const previousCents = ownRetry ? last.previousCents : last?.impactCents;
  const rootCauses =
    facts.rootCauses.length > 0
      ? facts.rootCauses.map((c) => `  - ${describeRootCause(c)}`)
      : ['  - none reported by Cost Anomaly Detection'];
  const budgets = budgetLines(gathered.budgets, facts.totalImpact, facts.affectedAccounts);
  // Above the stop threshold: the idle stopper's stops, before the page, so the page reports them.
  const stops = planAnomalyStops({ facts, gathered, config: cfg, correlationId: signal.correlationId });
  notes.push(...stops.notes);
  const details = [
    `Root causes (${facts.rootCauses.length})`,
    ...rootCauses,
    ...(budgets.length > 0 ? ['', ...budgets] : []),
    ...(stops.details.length > 0 ? ['', ...stops.details] : []),
  ];
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: settings.severity,
    reason: `Above the stage's cost anomaly thresholds: ${verdict.why}.`,
    details,
    nothingDone: 'Nothing: this page is the action; look at the root causes and the links below.',
  });
  const planned: AnomalyPageIntent = {
    ...page,
    // Each larger impact is its own notice, with its own page id.
    incidentKey: `${signal.incidentKey}#${impactCents}`,
    anomaly: { id: facts.anomalyId, impactCents },
    ...(stops.section ? { idleStops: stops.section } : {}),
  };
  // An update the plan knows of is worded here; otherwise the claim words the one it finds.
  const intent = previousCents === undefined ? planned : asUpdate(planned, previousCents);
  return {
    intents: stops.intent ? [stops.intent, intent] : [intent],
    notes,
    findings: {
      decision: previousCents === undefined ? 'page' : 'update',
      thresholds: verdict.why,
      stopIdle: stops.findings,
    },
  };
}
