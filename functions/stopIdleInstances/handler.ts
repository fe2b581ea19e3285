import { config } from '#shared/config.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import { stopInstancesExecutor } from '#shared/executors/stopInstances.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { opsHandler } from '#shared/runtime/middleware.ts';
import { type PipelineSpec, runPipeline } from '#shared/runtime/pipeline.ts';
import { gatherIdleScan, type IdleScanGathered } from './gather.ts';
import { type IdleScanIntent, idleScanSignal, planIdleScan } from './plan.ts';
import { measureIdleScan, withoutVerdicts } from './report.ts';
import { IdleScanEvent, isScheduled } from './schema.ts';
import { type IdleScanRequest, toIdleScanRequest } from './settings.ts';

export const executors: ExecutorMap<IdleScanIntent> = {
  'ec2.stop-instances': stopInstancesExecutor,
  'sns.page': pageExecutor,
};

export const idleScanPipeline: PipelineSpec<IdleScanRequest, IdleScanGathered, IdleScanIntent> = {
  toSignal: idleScanSignal,
  gather: gatherIdleScan,
  plan: planIdleScan,
  executors,
  measure: measureIdleScan,
};

/**
 * Hourly schedule or manual invoke -> stop the idle instances within the cap, page one summary.
 * Scheduled deliveries are deduplicated by event id; a manual payload has none and always runs.
 */
export const handler = opsHandler(
  { name: 'stopIdleInstances', schema: IdleScanEvent, idempotencyKey: 'id', idempotencyKeyOptional: true },
  async (event, context) => {
    const result = await runPipeline(idleScanPipeline, toIdleScanRequest(event, context, config()));
    return isScheduled(event) ? withoutVerdicts(result) : result;
  },
);
