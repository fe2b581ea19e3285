import { DescribeBackupJobCommand } from '@aws-sdk/client-backup';
import { backup } from '#shared/aws/backup.ts';
import { describeError } from '#shared/domain/errorText.ts';
import { logger } from '#shared/runtime/powertools.ts';
import type { AwsJobRead } from './retryVerdict.ts';

export type { AwsJobRead };

/**
 * AWS Backup's own answer about a job (DescribeBackupJob), read by onBackupFailure before it decides and
 * by approveAction before it starts an approved retry; an error is an answer too (`unreadable`).
 */
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
