import { DescribeBackupJobCommand } from '@aws-sdk/client-backup';
import { backup } from '#shared/aws/backup.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { retryOf } from '#shared/state/backupRetries.ts';
import type { AwsJobRead } from './retry.ts';
import type { BackupFailureConfig } from './settings.ts';
import type { BackupFailureFacts } from './signal.ts';

/**
 * The reads gather makes: our retry records and the job read back from AWS. Not whether the resource
 * still exists: StartBackupJob answers that itself (shared/executors/retryBackup.ts), and asking first
 * would load the EC2 client into this function for every cold start.
 */
export const gatherPermissions = ['dynamodb:GetItem', 'backup:DescribeBackupJob'] as const;

export interface BackupFailureGathered {
  /** The failed job this job retries, when it is a retry this function started. */
  retryOf?: string;
  /** AWS's answer about a backup job (DescribeBackupJob), or why it could not be read. */
  aws?: AwsJobRead;
}

const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export async function readJob(jobId: string): Promise<AwsJobRead> {
  try {
    const res = await backup.send(new DescribeBackupJobCommand({ BackupJobId: jobId }));
    return {
      job: {
        ...(res.AccountId ? { accountId: res.AccountId } : {}),
        ...(res.State ? { state: res.State } : {}),
        ...(res.StatusMessage ? { statusMessage: res.StatusMessage } : {}),
        ...(res.BackupVaultName ? { backupVaultName: res.BackupVaultName } : {}),
        ...(res.ResourceArn ? { resourceArn: res.ResourceArn } : {}),
        ...(res.ResourceType ? { resourceType: res.ResourceType } : {}),
        ...(res.IamRoleArn ? { iamRoleArn: res.IamRoleArn } : {}),
        ...(res.CreatedBy?.BackupPlanId ? { backupPlanId: res.CreatedBy.BackupPlanId } : {}),
        ...(res.CreatedBy?.BackupPlanArn ? { backupPlanArn: res.CreatedBy.BackupPlanArn } : {}),
        ...(res.CreatedBy?.BackupRuleId ? { backupRuleId: res.CreatedBy.BackupRuleId } : {}),
        ...(res.CreationDate ? { creationDate: new Date(res.CreationDate).toISOString() } : {}),
        ...(res.CompletionDate ? { completionDate: new Date(res.CompletionDate).toISOString() } : {}),
      },
    };
  } catch (error) {
    logger.warn('backup job not readable', { jobId, error });
    return { unreadable: describeError(error) };
  }
}

/**
 * Read-only: for a backup job, whether it is one of our retries and AWS's own answer about it (its plan
 * and rule for the page, and what a retry would use). Copy and restore jobs need nothing beyond their
 * event.
 */
export async function gatherBackupFailure(input: {
  signal: Signal;
  facts: BackupFailureFacts;
  config: BackupFailureConfig;
}): Promise<BackupFailureGathered> {
  const { facts } = input;
  if (facts.job.type !== 'backup') return {};
  const retried = await retryOf(facts.job.id);
  const aws = await readJob(facts.job.id);
  return { ...(retried ? { retryOf: retried } : {}), aws };
}
