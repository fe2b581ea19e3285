import type { z } from 'zod';
import type { CostAnomalyEvent } from '#functions/onCostAnomaly/schema.ts';
import { type EnvelopeOverrides, fromFixture, withEnvelope } from './fixture.ts';

/** A Cost Anomaly Detection event as EventBridge delivers it, before onCostAnomaly's schema reads it. */
export type CostAnomaly = z.input<typeof CostAnomalyEvent>;
type Impact = CostAnomaly['detail']['impact'];

export interface CostAnomalyOverrides extends EnvelopeOverrides {
  /** The anomaly's id: the incident (one page per anomaly). */
  anomalyId?: string;
  /** Impact fields set over the fixture's (totalImpact, totalImpactPercentage, ...). */
  impact?: Partial<Impact>;
  rootCauses?: CostAnomaly['detail']['rootCauses'];
}

/**
 * A cost anomaly from `events/onCostAnomaly/<fixture>.json` (default: the documented anomaly), with the
 * given fields changed where AWS puts them.
 */
export function costAnomaly(fixture = 'anomaly-detected', overrides: CostAnomalyOverrides = {}): CostAnomaly {
  const event = withEnvelope(fromFixture<CostAnomaly>('onCostAnomaly', fixture), overrides);
  const { detail } = event;
  if (overrides.anomalyId !== undefined) detail.anomalyId = overrides.anomalyId;
  if (overrides.impact !== undefined) detail.impact = { ...detail.impact, ...overrides.impact };
  if (overrides.rootCauses !== undefined) detail.rootCauses = overrides.rootCauses;
  return event;
}
