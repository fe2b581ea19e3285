import { z } from 'zod';
import { Severity } from '#shared/domain/severity.ts';

/**
 * onCostAnomaly's stage settings (`costAnomaly`). `shared/config.ts` composes them into a stage's
 * configuration, so only zod and pure domain modules here.
 */
export const CostAnomalySettings = z.strictObject({
  /** Total impact (actual minus expected spend) in US dollars an anomaly must reach to page. */
  minImpactDollars: z.number().finite().min(0).default(100),
  /** Total impact as a percentage of the expected spend an anomaly must reach to page. */
  minImpactPercent: z.number().finite().min(0).default(20),
  /** `both`: both thresholds must pass; `either`: one is enough. */
  require: z.enum(['both', 'either']).default('both'),
  severity: Severity.default('warning'),
});
export type CostAnomalySettings = z.infer<typeof CostAnomalySettings>;
