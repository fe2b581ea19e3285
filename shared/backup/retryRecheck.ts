import type { RetryBackupIntent } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { type RetryClaim, readRetryClaim } from '#shared/state/backupRetries.ts';
import { readJob } from './jobRead.ts';
import { type AwsJobRead, type RetrySettings, retryVerdict } from './retryVerdict.ts';

/*
 * A backup retry approved by a person (backupFailure.approval: 'required') is judged again by
 * approveAction with the verdict onBackupFailure's plan uses: both live here, so neither function
 * reaches into the other's folder.
 */

/** What the re-check reads now: AWS's answer about the failed job, and the owner's retry claim. */
export interface RetryRecheckRead {
  aws: AwsJobRead;
  claim?: RetryClaim;
}

/** Read-only; run as onBackupFailure (actingFor), whose record the claim is. */
export async function readRetryRecheck(intent: RetryBackupIntent): Promise<RetryRecheckRead> {
  const [aws, claim] = await Promise.all([readJob(intent.failedJobId), readRetryClaim(intent.failedJobId)]);
  return { aws, ...(claim ? { claim } : {}) };
}

/** Why the recorded retry may not start now, or undefined when it may. Pure. */
export function retryRecheckRefusal(
  intent: RetryBackupIntent,
  recorded: { signal: Signal; settings: { backupFailure?: RetrySettings } },
  read: RetryRecheckRead | undefined,
): { reason: 'out-of-scope' | 'resolved'; message: string } | undefined {
  const job = intent.failedJobId;
  if (read?.claim) {
    const by = read.claim.retryJobId ? `as job ${read.claim.retryJobId}` : 'by another delivery';
    const at = new Date(read.claim.claimedAt * 1000).toISOString();
    return { reason: 'resolved', message: `job ${job} was already retried ${by} at ${at}: nothing done` };
  }
  const settings = recorded.settings.backupFailure;
  if (!read || !settings) {
    return { reason: 'out-of-scope', message: `job ${job} could not be checked again: nothing done` };
  }
  const verdict = retryVerdict({
    // The job as the retry was planned for; its state and the rest are AWS's answer, read now.
    facts: { job: { type: 'backup', state: 'FAILED', resourceType: intent.resourceType } },
    settings: { ...settings, retry: true },
    account: recorded.signal.account,
    region: recorded.signal.region,
    aws: read.aws,
  });
  if (!verdict.candidate || !('allowed' in verdict)) {
    const why = verdict.candidate && 'blocked' in verdict ? verdict.blocked : 'it is not a retry candidate';
    return { reason: 'out-of-scope', message: `job ${job} is no longer retried: ${why}; nothing done` };
  }
  const now = verdict.allowed;
  const changed = [
    now.backupVaultName !== intent.backupVaultName ? `vault ${now.backupVaultName}` : undefined,
    now.resourceArn !== intent.resourceArn ? `resource ${now.resourceArn}` : undefined,
    now.iamRoleArn !== intent.iamRoleArn ? `role ${now.iamRoleArn}` : undefined,
  ].filter((c) => c !== undefined);
  if (changed.length > 0) {
    return {
      reason: 'out-of-scope',
      message: `AWS Backup now names ${changed.join(', ')} for job ${job}, not what was approved: nothing done`,
    };
  }
  return undefined;
}
