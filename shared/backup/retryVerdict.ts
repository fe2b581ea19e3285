/**
 * Whether a failed backup job may be retried: pure, so gather (to skip reads a refusal makes useless)
 * and plan (to decide) agree. The event is only a hint: what a retry backs up, where and as whom is
 * AWS's answer to DescribeBackupJob, so a crafted event cannot make this function back up (and pass a
 * role to) something else.
 */

/** What AWS Backup answers about the job (DescribeBackupJob). */
export interface AwsBackupJob {
  accountId?: string;
  state?: string;
  statusMessage?: string;
  backupVaultName?: string;
  resourceArn?: string;
  resourceType?: string;
  iamRoleArn?: string;
  backupPlanId?: string;
  backupPlanArn?: string;
  backupRuleId?: string;
  /** When AWS says the job was created and ended (ISO 8601). */
  creationDate?: string;
  completionDate?: string;
}

export type AwsJobRead = { job: AwsBackupJob } | { unreadable: string };

/**
 * What the verdict reads of the failed job as its event told it: onBackupFailure's facts, and the job as
 * recorded with a retry that waits for approval (approveAction judges it again with AWS's answer now).
 */
export interface RetriedJobFacts {
  job: { type: string; state: string; statusMessage?: string | undefined; resourceType: string };
}

/** The stage's `backupFailure` settings the verdict reads. */
export interface RetrySettings {
  retry: boolean;
}

/** Status messages no retry can fix: the page says which kind it is. */
const UNFIXABLE: { kind: string; pattern: RegExp }[] = [
  {
    kind: 'a backup vault access policy',
    pattern: /vault access policy|access policy of the (backup )?vault|vault lock/i,
  },
  {
    kind: 'missing permissions',
    pattern:
      /access ?denied|not authori[sz]ed|unauthori[sz]ed|permission|passrole|assume (the )?role|insufficient privileges/i,
  },
  {
    kind: 'a deleted or missing resource or vault',
    pattern: /does ?n[o']t exist|not found|no longer exists|deleted|terminated/i,
  },
];

/** Which kind of failure a status message reports that a retry cannot fix, if any. */
export function unfixableBy(message: string | undefined): string | undefined {
  if (!message) return undefined;
  return UNFIXABLE.find((u) => u.pattern.test(message))?.kind;
}

export type RetryVerdict =
  /** Not a job this function retries (a copy or restore, a completed or expired job). */
  | { candidate: false }
  /** Retries are off on this stage. */
  | { candidate: true; off: true }
  | { candidate: true; blocked: string }
  | {
      candidate: true;
      allowed: { backupVaultName: string; resourceArn: string; resourceType: string; iamRoleArn: string };
    };

const RETRIED_STATES = new Set(['FAILED', 'ABORTED']);

const accountOf = (arn: string) => arn.split(':')[4];
const regionOf = (arn: string) => arn.split(':')[3];

/**
 * The oldest failure retried, by AWS's own dates: far inside the 90 days the retry records are kept
 * (shared/state/backupRetries.ts), so a replayed or late failure is never retried once those records
 * that make "at most once" (and "never a retry of a retry") could have expired.
 */
export const MAX_RETRY_AGE_DAYS = 7;
const DAY_MS = 86_400_000;

/**
 * The verdict from the job, the stage, whether the job is one of our retries, and AWS's answer about
 * it. Whether the resource still exists is StartBackupJob's to say (shared/executors/retryBackup.ts).
 */
export function retryVerdict(input: {
  facts: RetriedJobFacts;
  settings: RetrySettings;
  account: string;
  region: string;
  retryOf?: string | undefined;
  aws?: AwsJobRead | undefined;
}): RetryVerdict {
  const { facts, settings, account } = input;
  const { job } = facts;
  if (job.type !== 'backup' || !RETRIED_STATES.has(job.state)) return { candidate: false };
  if (input.retryOf !== undefined) {
    return {
      candidate: true,
      blocked: `this job is the retry this function started for failed job ${input.retryOf}; a job is retried at most once`,
    };
  }
  if (!settings.retry) return { candidate: true, off: true };
  if (input.aws === undefined)
    return { candidate: true, blocked: 'the job was not read back from AWS Backup' };
  if ('unreadable' in input.aws) {
    return {
      candidate: true,
      blocked: `the job could not be read back from AWS Backup (${input.aws.unreadable}); the event alone is not trusted to start a backup`,
    };
  }
  const aws = input.aws.job;
  if (!aws.state || !RETRIED_STATES.has(aws.state)) {
    return {
      candidate: true,
      blocked: `AWS Backup reports the job as ${aws.state ?? 'in no state'}, not FAILED or ABORTED`,
    };
  }
  if (aws.accountId !== undefined && aws.accountId !== account) {
    return {
      candidate: true,
      blocked: `AWS Backup reports the job in account ${aws.accountId}, not ${account}`,
    };
  }
  const ranAt = Date.parse(aws.completionDate ?? aws.creationDate ?? '');
  const ageDays = Number.isNaN(ranAt) ? undefined : Math.floor((Date.now() - ranAt) / DAY_MS);
  if (ageDays !== undefined && ageDays > MAX_RETRY_AGE_DAYS) {
    return {
      candidate: true,
      blocked: `AWS Backup reports the job ended ${ageDays} days ago; only failures of the last ${MAX_RETRY_AGE_DAYS} days are retried (a late or replayed event)`,
    };
  }
  if (!aws.backupPlanId && !aws.backupPlanArn) {
    // This function's own retries are on-demand jobs. A retry is known as one by the record written
    // after StartBackupJob answers; when that answer was lost (the job started all the same), its
    // failure would look like a fresh one: only a job a backup plan created is retried.
    return {
      candidate: true,
      blocked:
        'AWS Backup reports no backup plan for the job: an on-demand job (as this function’s own retries are) is not retried',
    };
  }
  const unfixable = unfixableBy(aws.statusMessage ?? job.statusMessage);
  if (unfixable) {
    return { candidate: true, blocked: `its status message reports ${unfixable}, which a retry cannot fix` };
  }
  const { backupVaultName, resourceArn, iamRoleArn } = aws;
  const resourceType = aws.resourceType ?? job.resourceType;
  if (!backupVaultName || !resourceArn || !iamRoleArn) {
    return {
      candidate: true,
      blocked: 'AWS Backup did not name the job’s vault, resource and role, all of which a retry needs',
    };
  }
  if (accountOf(iamRoleArn) !== account) {
    return { candidate: true, blocked: `the job's role ${iamRoleArn} is not in account ${account}` };
  }
  // StartBackupJob would accept another region's or account's ARN in principle; this function backs up
  // only what is its own.
  if (!accountOf(resourceArn) || !regionOf(resourceArn)) {
    return {
      candidate: true,
      blocked: `its resource ${resourceArn} names no account and region (as an S3 bucket's ARN does), so it cannot be told apart from another account's`,
    };
  }
  if (accountOf(resourceArn) !== account || regionOf(resourceArn) !== input.region) {
    return {
      candidate: true,
      blocked: `its resource ${resourceArn} is not in this function's account ${account} and region ${input.region}`,
    };
  }
  return { candidate: true, allowed: { backupVaultName, resourceArn, resourceType, iamRoleArn } };
}
