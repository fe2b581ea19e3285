import type { CostAnomalySettings } from './settings.ts';
import { type CostAnomalyFacts, dollars, percent } from './signal.ts';

// Read by gather (to skip the reads for an anomaly that will not page) and by plan (to decide).

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
