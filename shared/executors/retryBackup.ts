import { StartBackupJobCommand } from '@aws-sdk/client-backup';
import { backup } from '#shared/aws/backup.ts';
import type { RetryBackupIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import { claimBackupRetry, recordBackupRetry } from '#shared/state/backupRetries.ts';
import { rateSlotUpdate } from '#shared/state/rateGuard.ts';
import type { MutatingExecutor } from './types.ts';

const describeRetry = (intent: RetryBackupIntent) =>
  `a backup of ${intent.resourceArn} into vault ${intent.backupVaultName} as ${intent.iamRoleArn} ` +
  `(retry of failed job ${intent.failedJobId}, kept ${intent.deleteAfterDays} days)`;

/** What a resource is called in a page, by AWS Backup's resource type. */
const RESOURCE_NOUNS: Record<string, string> = { EBS: 'volume', EC2: 'instance', DynamoDB: 'table' };

const errorText = (error: unknown) =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: '', message: String(error) };

/**
 * What StartBackupJob's refusal says is gone, if it says something is: the resource or the vault.
 * AWS Backup checks both before it starts a job and answers ResourceNotFoundException (or
 * InvalidParameterValueException naming a missing resource)
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartBackupJob.html#API_StartBackupJob_Errors).
 */
export function goneBy(intent: RetryBackupIntent, error: unknown): string | undefined {
  const { name, message } = errorText(error);
  const missing =
    name === 'ResourceNotFoundException' ||
    (name === 'InvalidParameterValueException' &&
      /not (be )?found|does ?n[o']t exist|no longer exists|deleted/i.test(message));
  if (!missing) return undefined;
  if (/vault/i.test(message) && !message.includes(intent.resourceArn)) {
    return `its backup vault ${intent.backupVaultName} no longer exists`;
  }
  const noun = RESOURCE_NOUNS[intent.resourceType] ?? 'resource';
  const id = intent.resourceArn.split(':').slice(5).join(':').split('/').at(-1) || intent.resourceArn;
  return `its resource no longer exists: ${noun} ${id} no longer exists`;
}

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
  // Its records; StartBackupJob and passing the job's role are onBackupFailure's grant (its deployment).
  permissions: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
  mutates: true,
  budgetMs: 10_000,
  // One slot per failed job: a duplicate or retried delivery of its failure holds the same one.
  rateGuard: (intent) => ({ rule: 'backup-retry', actionId: intent.failedJobId }),
  // The slot is claimed in the retry claim's own transaction: one round trip, both or neither.
  joinsRateGuard: true,
  // A dry run asks AWS nothing: the preview says who would check the resource.
  preview: (intent) =>
    `start ${describeRetry(intent)}; AWS Backup refuses the retry if the resource no longer exists`,
  async execute(intent, ctx) {
    try {
      const slot = ctx.rateSlot && rateSlotUpdate(ctx.rateSlot, ctx.rateSlot.actionId);
      const claim = await claimBackupRetry(intent.failedJobId, ctx.signal.correlationId, slot);
      if (!claim.claimed && 'rateLimited' in claim) {
        // The runtime words the refusal and pages the trip once (shared/runtime/pipeline.ts).
        return skipped(intent.kind, 'rate-limited', `did not retry job ${intent.failedJobId}: rate guard`);
      }
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
      const gone = goneBy(intent, error);
      if (gone) {
        // Not a failure: nothing a retry of the delivery could change. The claim stays, so none tries.
        const { name, message } = errorText(error);
        return skipped(
          intent.kind,
          'out-of-scope',
          `Not retried: ${gone}. AWS Backup refused the retry of job ${intent.failedJobId} (${name}: ${message}).`,
        );
      }
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
