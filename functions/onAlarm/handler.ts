import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pageExecutor } from '#shared/executors/page.ts';
import { runbookExecutor } from '#shared/executors/runbook.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { opsHandler } from '#shared/runtime/middleware.ts';
import { type PipelineResult, type PipelineSpec, runPipeline } from '#shared/runtime/pipeline.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { type AlarmGathered, gatherAlarm } from './gather.ts';
import { type AlarmIntent, planAlarm } from './plan.ts';
import { AlarmEvent } from './schema.ts';
import { alarmSignal } from './signal.ts';

export const executors: ExecutorMap<AlarmIntent> = {
  'ssm.start-automation': runbookExecutor,
  'sns.page': pageExecutor,
};

/** Runbook starts refused (out of scope, already recovered, over the limit): a later contributor's page is suppressed, so the count and the action log are where they show. */
export function runbooksRefused(result: Pick<PipelineResult, 'outcomes' | 'notes'>): number {
  const byPlan = result.notes.filter((n) => n.reason === 'out-of-scope' || n.reason === 'already-recovered');
  const byLimit = result.outcomes.filter(
    (o) => o.kind === 'ssm.start-automation' && o.reason === 'limit-reached',
  );
  return byPlan.length + byLimit.length;
}

export const onAlarmPipeline: PipelineSpec<AlarmEvent, AlarmGathered, AlarmIntent> = {
  toSignal: alarmSignal,
  gather: gatherAlarm,
  plan: planAlarm,
  executors,
  measure: (result) => metrics.addMetric('RunbooksRefused', MetricUnit.Count, runbooksRefused(result)),
};

/** CloudWatch alarm state change -> runbook (per configuration) and one page per incident. */
export const handler = opsHandler({ name: 'onAlarm', schema: AlarmEvent, idempotencyKey: 'id' }, (event) =>
  runPipeline(onAlarmPipeline, event),
);
