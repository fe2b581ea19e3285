import { type AwsJobRead, readJob } from '#shared/backup/jobRead.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { retryOf } from '#shared/state/backupRetries.ts';
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
