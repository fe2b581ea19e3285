import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { stopInstancesExecutor } from '#shared/executors/stopInstances.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { idleStopNeed } from '#shared/idle/approval.ts';
import { logVerdicts, stoppedInstances } from '#shared/idle/report.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { type CostAnomalyGathered, gatherCostAnomaly, gatherPermissions } from './gather.ts';
import { anomalyPageExecutor } from './pageClaim.ts';
import { type CostAnomalyFindings, type CostAnomalyIntent, planCostAnomaly } from './plan.ts';
import { CostAnomalyEvent } from './schema.ts';
import { type CostAnomalyConfig, costAnomalyFreezeScope, specSettings } from './settings.ts';
import { type CostAnomalyFacts, observeCostAnomaly } from './signal.ts';

export const executors: ExecutorMap<CostAnomalyIntent, CostAnomalyConfig> = {
  'sns.page': anomalyPageExecutor,
  // The idle stopper's own executor: its hourly budget (the account's, shared), its tags, its preview.
  'ec2.stop-instances': stopInstancesExecutor,
};

/** Cost Anomaly Detection "Anomaly Detected" -> one page per anomaly above the stage's thresholds. */
export const onCostAnomaly: FunctionSpec<
  typeof CostAnomalyEvent,
  CostAnomalyFacts,
  CostAnomalyGathered,
  CostAnomalyIntent,
  CostAnomalyFindings,
  typeof specSettings
> = {
  name: 'onCostAnomaly',
  // Its idle stop reads the idle stopper's limits (`idleStop`), as stopIdleInstances does.
  settings: specSettings,
  schema: CostAnomalyEvent,
  idempotency: { key: 'id' },
  // The envelope names the account whose monitor reported the anomaly, and is checked; the linked
  // accounts a payer account's anomaly names in its detail stay accepted (shown, and stopIdle acts only
  // on this account's root causes).
  scope: envelopeScope,
  observe: observeCostAnomaly,
  gather: { permissions: gatherPermissions, read: gatherCostAnomaly },
  plan: planCostAnomaly,
  executors,
  changeFreeze: costAnomalyFreezeScope,
  // The idle stopper's `approval`: an anomaly's stop list waits for a person, as one pending action. Its
  // stops are of opted-in instances only, whatever idleStop.scope says (anomalyStopRequest).
  approval: (intent, config) => idleStopNeed(intent, config.idleStop, 'opt-in'),
  measure(result) {
    // An anomaly below the thresholds is recorded, not paged: the metric shows how many.
    if (result.findings?.decision === 'below-threshold') {
      metrics.addMetric('CostAnomaliesBelowThreshold', MetricUnit.Count, 1);
    }
    const stopIdle = result.findings?.stopIdle;
    if (stopIdle?.verdicts) {
      metrics.addMetric('InstancesStopped', MetricUnit.Count, stoppedInstances(result.outcomes).size);
      logVerdicts(stopIdle.verdicts);
    }
  },
  // The verdicts of a large fleet would not fit the stored idempotency record: they are logged.
  respond(result) {
    const stopIdle = result.findings?.stopIdle;
    if (!result.findings || !stopIdle?.verdicts) return result;
    const { verdicts: _logged, ...kept } = stopIdle;
    return { ...result, findings: { ...result.findings, stopIdle: kept } };
  },
};
