import { DescribeBackupJobCommand } from '@aws-sdk/client-backup';
import { backup } from '#shared/aws/backup.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { retryOf } from '#shared/state/backupRetries.ts';
import { type Existence, RESOURCE_CHECK_PERMISSIONS, resourceExistence } from './resources.ts';
import { type AwsJobRead, retryVerdict } from './retry.ts';
import type { BackupFailureFacts } from './signal.ts';

/** The reads gather makes: our retry records, the job read back from AWS, the resource's own describe call. */
export const gatherPermissions = [
  'dynamodb:GetItem',
  'backup:DescribeBackupJob',
  ...RESOURCE_CHECK_PERMISSIONS,
] as const;

export interface BackupFailureGathered {
  /** The failed job this job retries, when it is a retry this function started. */
  retryOf?: string;
  /** AWS's answer about a backup job (DescribeBackupJob), or why it could not be read. */
  aws?: AwsJobRead;
  /** Whether the resource still exists, for a retry that passed every other check. */
  existence?: Existence;
}

const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

async function readJob(jobId: string): Promise<AwsJobRead> {
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
 * Read-only: for a backup job, whether it is one of our retries, AWS's own answer about it (its plan
 * and rule for the page, and what a retry would use), and, for a retry that passes every other check,
 * whether its resource still exists. Copy and restore jobs need nothing beyond their event.
 */
export async function gatherBackupFailure(input: {
  signal: Signal;
  facts: BackupFailureFacts;
  config: RuntimeConfig;
}): Promise<BackupFailureGathered> {
  const { signal, facts, config: cfg } = input;
  if (facts.job.type !== 'backup') return {};
  const retried = await retryOf(facts.job.id);
  const aws = await readJob(facts.job.id);
  const verdict = retryVerdict({
    facts,
    settings: cfg.backupFailure,
    account: signal.account,
    retryOf: retried,
    aws,
  });
  const existence =
    verdict.candidate && 'allowed' in verdict
      ? await resourceExistence(verdict.allowed.resourceType, verdict.allowed.resourceArn, signal)
      : undefined;
  return { ...(retried ? { retryOf: retried } : {}), aws, ...(existence ? { existence } : {}) };
}
