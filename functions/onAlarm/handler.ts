import { pageExecutor } from '#shared/executors/page.ts';
import { runbookExecutor } from '#shared/executors/runbook.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { opsHandler } from '#shared/runtime/middleware.ts';
import { type PipelineSpec, runPipeline } from '#shared/runtime/pipeline.ts';
import { type AlarmGathered, gatherAlarm } from './gather.ts';
import { type AlarmIntent, planAlarm } from './plan.ts';
import { AlarmEvent } from './schema.ts';
import { alarmSignal } from './signal.ts';

export const executors: ExecutorMap<AlarmIntent> = {
  'ssm.start-automation': runbookExecutor,
  'sns.page': pageExecutor,
};

export const onAlarmPipeline: PipelineSpec<AlarmEvent, AlarmGathered, AlarmIntent> = {
  toSignal: alarmSignal,
  gather: gatherAlarm,
  plan: planAlarm,
  executors,
};

/** CloudWatch alarm state change -> runbook (per configuration) and one page per incident. */
export const handler = opsHandler({ name: 'onAlarm', schema: AlarmEvent, idempotencyKey: 'id' }, (event) =>
  runPipeline(onAlarmPipeline, event),
);
