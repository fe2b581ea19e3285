import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { type CostAnomalyGathered, gatherCostAnomaly, gatherPermissions } from './gather.ts';
import { anomalyPageExecutor } from './incident.ts';
import { type CostAnomalyFindings, type CostAnomalyIntent, planCostAnomaly } from './plan.ts';
import { CostAnomalyEvent } from './schema.ts';
import { type CostAnomalyFacts, observeCostAnomaly } from './signal.ts';

export const executors: ExecutorMap<CostAnomalyIntent> = {
  'sns.page': anomalyPageExecutor,
};

/** Cost Anomaly Detection "Anomaly Detected" -> one page per anomaly above the stage's thresholds. */
export const onCostAnomaly: FunctionSpec<
  typeof CostAnomalyEvent,
  CostAnomalyFacts,
  CostAnomalyGathered,
  CostAnomalyIntent,
  CostAnomalyFindings
> = {
  name: 'onCostAnomaly',
  schema: CostAnomalyEvent,
  idempotency: { key: 'id' },
  observe: observeCostAnomaly,
  gather: { permissions: gatherPermissions, read: gatherCostAnomaly },
  plan: planCostAnomaly,
  executors,
  measure(result) {
    // An anomaly below the thresholds is recorded, not paged: the metric shows how many.
    if (result.findings?.decision === 'below-threshold') {
      metrics.addMetric('CostAnomaliesBelowThreshold', MetricUnit.Count, 1);
    }
  },
};
