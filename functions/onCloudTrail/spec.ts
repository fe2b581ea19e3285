import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pageExecutor } from '#shared/executors/page.ts';
import { restorePublicAccessBlockExecutor } from '#shared/executors/publicAccessBlock.ts';
import { revokeIngressExecutor } from '#shared/executors/revokeIngress.ts';
import { revokeRdsSnapshotShareExecutor } from '#shared/executors/revokeRdsSnapshotShare.ts';
import { revokeShareExecutor } from '#shared/executors/revokeShare.ts';
import { startLoggingExecutor } from '#shared/executors/startLogging.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { cloudTrailApproval } from './approval.ts';
import { REMEDIATIONS, type RemediationKind } from './detections/remediations.ts';
import { type CloudTrailGathered, gatherCloudTrail, gatherPermissions } from './gather.ts';
import { type CloudTrailFindings, type CloudTrailIntent, planCloudTrail } from './plan.ts';
import { CloudTrailEvent } from './schema.ts';
import { type CloudTrailConfig, cloudTrailFreezeScope, specSettings } from './settings.ts';
import { type CloudTrailFacts, cloudTrailScope, observeCloudTrail } from './signal.ts';

// Remediations first in a plan: the page then says what they came to.
export const executors: ExecutorMap<CloudTrailIntent, CloudTrailConfig> = {
  'ec2.revoke-ingress': revokeIngressExecutor,
  's3.restore-public-access-block': restorePublicAccessBlockExecutor,
  'cloudtrail.start-logging': startLoggingExecutor,
  'ec2.revoke-share': revokeShareExecutor,
  'rds.revoke-snapshot-share': revokeRdsSnapshotShareExecutor,
  'sns.page': pageExecutor,
};

/**
 * Which executor undoes each remediation (its declared intent kind): its role gets their permissions
 * only when a stage turns it on.
 */
export const remediationExecutors = Object.fromEntries(
  Object.entries(REMEDIATIONS).map(([kind, r]) => [kind, executors[r.intentKind]]),
) as { [K in RemediationKind]: (typeof executors)[(typeof REMEDIATIONS)[K]['intentKind']] };

/** A risky account change recorded by CloudTrail -> one page per record (or a record in the action log). */
export const onCloudTrail: FunctionSpec<
  typeof CloudTrailEvent,
  CloudTrailFacts,
  CloudTrailGathered,
  CloudTrailIntent,
  CloudTrailFindings,
  typeof specSettings
> = {
  name: 'onCloudTrail',
  settings: specSettings,
  schema: CloudTrailEvent,
  // The CloudTrail record's id: a redelivered or forwarded copy of one record is handled once.
  idempotency: { key: 'detail.eventID' },
  scope: cloudTrailScope,
  observe: observeCloudTrail,
  gather: { permissions: gatherPermissions, read: gatherCloudTrail },
  plan: planCloudTrail,
  executors,
  changeFreeze: cloudTrailFreezeScope,
  approval: cloudTrailApproval,
  measure: (result) => {
    const action = result.findings?.action;
    metrics.addMetric('DetectionsPaged', MetricUnit.Count, action === 'page' ? 1 : 0);
    metrics.addMetric('DetectionsRecorded', MetricUnit.Count, action === 'record' ? 1 : 0);
  },
};
