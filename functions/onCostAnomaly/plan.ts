import type { RuntimeConfig } from '#shared/config.ts';
import type { PageIntent, Plan, PlanNote } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { CostAnomalyGathered } from './gather.ts';
import type { CostAnomalySettings } from './settings.ts';
import { type CostAnomalyFacts, describeRootCause, dollars, percent } from './signal.ts';

export type CostAnomalyIntent = PageIntent;

/** What became of the anomaly: the metric and the manual invoke's result say it. */
export interface CostAnomalyFindings {
  decision: 'page' | 'below-threshold';
  thresholds: string;
}

/** Whether the anomaly reaches the stage's thresholds, and the sentence that says why. */
export function thresholdVerdict(
  facts: CostAnomalyFacts,
  s: CostAnomalySettings,
): { passes: boolean; why: string } {
  const byDollars = facts.totalImpact >= s.minImpactDollars;
  // No expected spend: the increase is unbounded, so any percentage threshold is reached.
  const byPercent = facts.impactPercent === undefined || facts.impactPercent >= s.minImpactPercent;
  const passes = s.require === 'both' ? byDollars && byPercent : byDollars || byPercent;
  const dollarsPart = `impact ${dollars(facts.totalImpact)} ${byDollars ? '>=' : '<'} ${dollars(s.minImpactDollars)}`;
  const percentPart = `${percent(facts.impactPercent)} ${byPercent ? '>=' : '<'} ${s.minImpactPercent} %`;
  const rule = s.require === 'both' ? 'both must pass' : 'either passes';
  return { passes, why: `${dollarsPart}; ${percentPart} (${rule})` };
}

/** Pure: page an anomaly above the stage's thresholds, record one below them. */
export function planCostAnomaly(input: {
  signal: Signal;
  facts: CostAnomalyFacts;
  gathered: CostAnomalyGathered;
  config: RuntimeConfig;
}): Plan<CostAnomalyIntent, CostAnomalyFindings> {
  const { signal, facts, config: cfg } = input;
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
  const rootCauses =
    facts.rootCauses.length > 0
      ? facts.rootCauses.map((c) => `  - ${describeRootCause(c)}`)
      : ['  - none reported by Cost Anomaly Detection'];
  const details = [`Root causes (${facts.rootCauses.length})`, ...rootCauses];
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: settings.severity,
    reason: `Above the stage's cost anomaly thresholds: ${verdict.why}.`,
    details,
    nothingDone: 'Nothing: this page is the action; look at the root causes and the links below.',
  });
  return { intents: [page], notes, findings: { decision: 'page', thresholds: verdict.why } };
}
