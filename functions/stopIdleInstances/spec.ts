import { pageExecutor } from '#shared/executors/page.ts';
import { stopInstancesExecutor } from '#shared/executors/stopInstances.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { gatherIdleScan, gatherPermissions, type IdleScanGathered } from '#shared/idle/gather.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { type IdleScanFindings, type IdleScanIntent, planIdleScan } from './plan.ts';
import { measureIdleScan, withoutVerdicts, withStopRefusals } from './report.ts';
import { IdleScanEvent, isScheduled } from './schema.ts';
import { type IdleRun, type IdleScanConfig, idleStopFreezeScope, specSettings } from './settings.ts';
import { observeIdleScan } from './signal.ts';

export const executors: ExecutorMap<IdleScanIntent, IdleScanConfig> = {
  'ec2.stop-instances': stopInstancesExecutor,
  'sns.page': pageExecutor,
};

/**
 * Hourly schedule or manual invoke -> stop the idle instances within the hourly limit, page one summary.
 * Scheduled deliveries are deduplicated by event id; a manual payload has none and always runs.
 */
export const stopIdleInstances: FunctionSpec<
  typeof IdleScanEvent,
  IdleRun,
  IdleScanGathered,
  IdleScanIntent,
  IdleScanFindings,
  typeof specSettings
> = {
  name: 'stopIdleInstances',
  settings: specSettings,
  schema: IdleScanEvent,
  idempotency: { key: 'id', optional: true },
  // A manual payload has no envelope: only someone allowed to invoke the function here sends one.
  scope: (event, site) => (isScheduled(event) ? envelopeScope(event, site) : []),
  observe: observeIdleScan,
  gather: { permissions: gatherPermissions, read: gatherIdleScan },
  plan: planIdleScan,
  executors,
  changeFreeze: idleStopFreezeScope,
  measure: measureIdleScan,
  // A manual invoke returns every verdict; a scheduled run's stored result stays small (they are logged).
  // Stop protection refusals turn their 'stop' verdicts into exclusions first.
  respond: (result, event) => {
    const settled = withStopRefusals(result);
    return isScheduled(event) ? withoutVerdicts(settled) : settled;
  },
};
