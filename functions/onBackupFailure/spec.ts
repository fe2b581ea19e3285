import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pageExecutor } from '#shared/executors/page.ts';
import { retryBackupExecutor } from '#shared/executors/retryBackup.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { backupApproval } from './approval.ts';
import { type BackupFailureGathered, gatherBackupFailure, gatherPermissions } from './gather.ts';
import { type BackupFailureFindings, type BackupFailureIntent, planBackupFailure } from './plan.ts';
import { BackupFailureEvent } from './schema.ts';
import { type BackupFailureConfig, backupFreezeScope, specSettings } from './settings.ts';
import { type BackupFailureFacts, observeBackupFailure } from './signal.ts';

export const executors: ExecutorMap<BackupFailureIntent, BackupFailureConfig> = {
  'backup.retry-job': retryBackupExecutor,
  'sns.page': pageExecutor,
};

/** AWS Backup job FAILED, ABORTED, EXPIRED or completed with issues -> one page per job, a backup job retried once. */
export const onBackupFailure: FunctionSpec<
  typeof BackupFailureEvent,
  BackupFailureFacts,
  BackupFailureGathered,
  BackupFailureIntent,
  BackupFailureFindings,
  typeof specSettings
> = {
  name: 'onBackupFailure',
  settings: specSettings,
  schema: BackupFailureEvent,
  idempotency: { key: 'id' },
  scope: envelopeScope,
  observe: observeBackupFailure,
  gather: { permissions: gatherPermissions, read: gatherBackupFailure },
  plan: planBackupFailure,
  executors,
  changeFreeze: backupFreezeScope,
  approval: backupApproval,
  measure(result) {
    // A job completed with issues on a stage that records them: the metric shows how many.
    if (result.findings?.decision === 'record') {
      metrics.addMetric('BackupJobsCompletedWithIssues', MetricUnit.Count, 1);
    }
  },
};
