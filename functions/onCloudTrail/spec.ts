import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { type CloudTrailGathered, gatherCloudTrail, gatherPermissions } from './gather.ts';
import { type CloudTrailFindings, type CloudTrailIntent, planCloudTrail } from './plan.ts';
import { CloudTrailEvent } from './schema.ts';
import { type CloudTrailFacts, observeCloudTrail } from './signal.ts';

export const executors: ExecutorMap<CloudTrailIntent> = {
  'sns.page': pageExecutor,
};

/** A risky account change recorded by CloudTrail -> one page per record (or a record in the action log). */
export const onCloudTrail: FunctionSpec<
  typeof CloudTrailEvent,
  CloudTrailFacts,
  CloudTrailGathered,
  CloudTrailIntent,
  CloudTrailFindings
> = {
  name: 'onCloudTrail',
  schema: CloudTrailEvent,
  // The CloudTrail record's id: a redelivered or forwarded copy of one record is handled once.
  idempotency: { key: 'detail.eventID' },
  observe: observeCloudTrail,
  gather: { permissions: gatherPermissions, read: gatherCloudTrail },
  plan: planCloudTrail,
  executors,
  measure: (result) => {
    const action = result.findings?.action;
    metrics.addMetric('DetectionsPaged', MetricUnit.Count, action === 'page' ? 1 : 0);
    metrics.addMetric('DetectionsRecorded', MetricUnit.Count, action === 'record' ? 1 : 0);
  },
};
