import { StartBackupJobCommand } from '@aws-sdk/client-backup';
import { backup } from '#shared/aws/backup.ts';
import type { RetryBackupIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import { claimBackupRetry, recordBackupRetry } from '#shared/state/backupRetries.ts';
import type { MutatingExecutor } from './types.ts';

const describeRetry = (intent: RetryBackupIntent) =>
  `a backup of ${intent.resourceArn} into vault ${intent.backupVaultName} as ${intent.iamRoleArn} ` +
  `(retry of failed job ${intent.failedJobId}, kept ${intent.deleteAfterDays} days)`;

/** How long AWS Backup may take to start the retry before it expires: the failure is fresh. */
const START_WINDOW_MINUTES = 60;

/**
 * Retries a failed backup job once: the retry is claimed under the failed job id before
 * StartBackupJob (so concurrent deliveries start at most one), and the call carries an idempotency
 * token derived from the failed job, so a retried delivery gets the same job back from AWS
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html).
 */
export const retryBackupExecutor: MutatingExecutor<RetryBackupIntent> = {
  kind: 'backup.retry-job',
  metrics: {
    done: 'BackupRetriesStarted',
    refused: { 'limit-reached': 'BackupRetriesRefused', 'out-of-scope': 'BackupRetriesRefused' },
  },
  permissions: [
    'backup:StartBackupJob',
    'iam:PassRole',
    'dynamodb:UpdateItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
  ],
  mutates: true,
  budgetMs: 10_000,
  // One slot per failed job: a duplicate or retried delivery of its failure holds the same one.
  rateGuard: (intent) => ({ rule: 'backup-retry', actionId: intent.failedJobId }),
  preview: (intent) => `start ${describeRetry(intent)}`,
  async execute(intent, ctx) {
    try {
      const claim = await claimBackupRetry(intent.failedJobId, ctx.signal.correlationId);
      if (!claim.claimed) {
        const earlier = claim.earlier;
        const by = earlier
          ? `${earlier.retryJobId ? `as job ${earlier.retryJobId}` : 'a retry'} at ${new Date(earlier.claimedAt * 1000).toISOString()} (delivery ${earlier.claimedBy})`
          : 'another delivery';
        return skipped(
          intent.kind,
          'limit-reached',
          `did not retry job ${intent.failedJobId} again: it is retried at most once, already ${by}`,
        );
      }
    } catch (error) {
      return failed(intent.kind, error, `could not claim the retry of job ${intent.failedJobId}`);
    }
    let retryJobId: string;
    try {
      const res = await backup.send(
        new StartBackupJobCommand({
          BackupVaultName: intent.backupVaultName,
          ResourceArn: intent.resourceArn,
          IamRoleArn: intent.iamRoleArn,
          IdempotencyToken: intent.idempotencyToken,
          StartWindowMinutes: START_WINDOW_MINUTES,
          Lifecycle: { DeleteAfterDays: intent.deleteAfterDays },
        }),
      );
      retryJobId = res.BackupJobId ?? 'unknown';
    } catch (error) {
      // The claim stays: this delivery's retry (same token) may try again, no other delivery may.
      return failed(intent.kind, error, `could not start ${describeRetry(intent)}`);
    }
    try {
      await recordBackupRetry(intent.failedJobId, retryJobId);
    } catch (error) {
      // Unrecorded, the retry's own failure would not be known as one: fail, so Lambda retries this
      // delivery, which gets the same job back (same token) and records it.
      return failed(
        intent.kind,
        error,
        `started backup job ${retryJobId} (${describeRetry(intent)}) but could not record it`,
      );
    }
    return done(intent.kind, `started backup job ${retryJobId}: ${describeRetry(intent)}`, {
      retryJobId,
    });
  },
};
