import { stopInstancesExecutor } from '#shared/executors/stopInstances.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { idleStopNeed } from '#shared/idle/approval.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { gatherIdleScan, gatherPermissions, type IdleScanGathered } from './gather.ts';
import { type IdleScanFindings, type IdleScanIntent, planIdleScan } from './plan.ts';
import { measureIdleScan, withoutVerdicts, withStopRefusals } from './report.ts';
import { IdleScanEvent, isScanTarget, isScheduled, type ScanTargetEvent } from './schema.ts';
import { type IdleRun, type IdleScanConfig, idleStopFreezeScope, specSettings } from './settings.ts';
import { observeIdleScan } from './signal.ts';
import { idleScanFanOutExecutor, idleScanPageExecutor } from './summaryPage.ts';

export const executors: ExecutorMap<IdleScanIntent, IdleScanConfig> = {
  'ec2.stop-instances': stopInstancesExecutor,
  // An organization's worker run pages its account's one summary; the scheduled run indexes its fan-out for the sweep.
  'sns.page': idleScanPageExecutor,
  'sqs.fan-out-scan': idleScanFanOutExecutor,
};

/** A scan target comes from this stack's own queue: its ARN names this function's account and region. */
function queueScope(event: ScanTargetEvent, site: Parameters<typeof envelopeScope>[1]) {
  const [, , , region = '', account = ''] = (event.Records[0]?.eventSourceARN ?? '').split(':');
  return envelopeScope({ account, region }, site).map((issue) => ({
    ...issue,
    path: `Records.0.eventSourceARN (${issue.path})`,
  }));
}

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
  // A scan target's body names its run, account and region: a second message of it is a duplicate.
  idempotency: { key: 'id || Records[0].body', optional: true },
  // A manual payload has no envelope: only someone allowed to invoke the function here sends one.
  scope: (event, site) =>
    isScanTarget(event) ? queueScope(event, site) : isScheduled(event) ? envelopeScope(event, site) : [],
  // A worker's run is its target's: that account's mode, served check and member role decide it.
  actingSite: (event, site) => {
    if (!isScanTarget(event)) return undefined;
    const { account, region } = (event.Records[0] as (typeof event.Records)[number]).body;
    return { requestId: site.requestId, account, region };
  },
  observe: observeIdleScan,
  gather: { permissions: gatherPermissions, read: gatherIdleScan },
  plan: planIdleScan,
  executors,
  changeFreeze: idleStopFreezeScope,
  // `idleStop.approval: 'required'`: the run's stop list waits for a person, as one pending action.
  approval: (intent, config) => idleStopNeed(intent, config.idleStop, config.idleStop.scope),
  measure: measureIdleScan,
  // A manual invoke returns every verdict; a scheduled run's stored result stays small (they are logged).
  // Stop protection refusals turn their 'stop' verdicts into exclusions first.
  respond: (result, event) => {
    const settled = withStopRefusals(result);
    return isScheduled(event) || isScanTarget(event) ? withoutVerdicts(settled) : settled;
  },
};
