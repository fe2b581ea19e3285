import { retryVerdict } from '#shared/backup/retryVerdict.ts';
import type { PageIntent, Plan, PlanNote, RetryBackupIntent } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { tokenFromKey } from '#shared/domain/tokens.ts';
import type { BackupFailureGathered } from './gather.ts';
import type { BackupFailureConfig } from './settings.ts';
import { asSentence, type BackupFailureFacts, type BackupJob, jobEvidence, unquote } from './signal.ts';

export type BackupFailureIntent = RetryBackupIntent | PageIntent;

/** What became of the job: the manual invoke's result and the metrics say it. */
export interface BackupFailureFindings {
  decision: 'page' | 'record' | 'nothing-to-do';
  retry: 'planned' | 'retry-failed' | 'not-retried' | 'off' | 'not-applicable';
  /** Why a candidate job was not retried. */
  why?: string;
}

/** The event's job with AWS's answer where it has one: vault, resource, role, plan and rule. */
function withAwsAnswer(job: BackupJob, gathered: BackupFailureGathered): BackupJob {
  if (!gathered.aws || !('job' in gathered.aws)) return job;
  const aws = gathered.aws.job;
  const vault = job.vault && aws.backupVaultName ? { ...job.vault, name: aws.backupVaultName } : job.vault;
  const statusMessage = unquote(aws.statusMessage) ?? job.statusMessage;
  const { backupPlanId, backupPlanArn, backupRuleId, ...rest } = job;
  // The plan and rule that made the job: AWS's, whole, when it names them.
  const plan =
    aws.backupPlanId || aws.backupPlanArn || aws.backupRuleId
      ? {
          ...(aws.backupPlanId ? { backupPlanId: aws.backupPlanId } : {}),
          ...(aws.backupPlanArn ? { backupPlanArn: aws.backupPlanArn } : {}),
          ...(aws.backupRuleId ? { backupRuleId: aws.backupRuleId } : {}),
        }
      : {
          ...(backupPlanId ? { backupPlanId } : {}),
          ...(backupPlanArn ? { backupPlanArn } : {}),
          ...(backupRuleId ? { backupRuleId } : {}),
        };
  return {
    ...rest,
    ...plan,
    ...(vault ? { vault } : {}),
    ...(aws.resourceArn ? { resourceArn: aws.resourceArn } : {}),
    ...(aws.iamRoleArn ? { iamRoleArn: aws.iamRoleArn } : {}),
    ...(statusMessage ? { statusMessage } : {}),
  };
}

/** The token of the one retry of a job: the same for every delivery of its failure. */
export const retryTokenOf = (signal: Signal, jobId: string): string =>
  tokenFromKey(`backup-retry|${signal.account}|${signal.region}|${jobId}`);

/** Pure: page a failed job (and retry a failed backup job once), page or record one completed with issues. */
export function planBackupFailure(input: {
  signal: Signal;
  facts: BackupFailureFacts;
  gathered: BackupFailureGathered;
  config: BackupFailureConfig;
}): Plan<BackupFailureIntent, BackupFailureFindings> {
  const { signal, facts, gathered, config: cfg } = input;
  const settings = cfg.backupFailure;
  const notes: PlanNote[] = [];
  const job = withAwsAnswer(facts.job, gathered);
  if (facts.outcome === 'completed') {
    // The rules route no plain COMPLETED job; a manual invoke of one gets this answer.
    notes.push({
      decision: 'skipped',
      reason: 'nothing-to-do',
      detail: `job ${job.id} completed without a status message: nothing to report`,
      withheld: 'sns.page',
    });
    return { intents: [], notes, findings: { decision: 'nothing-to-do', retry: 'not-applicable' } };
  }
  if (facts.outcome === 'completed-with-issues' && settings.completedWithIssues === 'record') {
    notes.push({
      decision: 'skipped',
      reason: 'record-only',
      detail: `job ${job.id} completed with issues (${job.statusMessage}); this stage records it without a page (backupFailure.completedWithIssues)`,
      withheld: 'sns.page',
    });
    return { intents: [], notes, findings: { decision: 'record', retry: 'not-applicable' } };
  }

  const verdict = retryVerdict({
    facts,
    settings,
    account: signal.account,
    region: signal.region,
    retryOf: gathered.retryOf,
    aws: gathered.aws,
  });
  const intents: BackupFailureIntent[] = [];
  let retry: BackupFailureFindings['retry'] = 'not-applicable';
  let why: string | undefined;
  let retrySentence = '';
  if (verdict.candidate && 'off' in verdict) {
    retry = 'off';
    retrySentence = ' Not retried: retries are off on this stage (backupFailure.retry).';
  } else if (verdict.candidate && 'blocked' in verdict) {
    retry = gathered.retryOf !== undefined ? 'retry-failed' : 'not-retried';
    why = verdict.blocked;
  } else if (verdict.candidate) {
    // Whether the resource still exists is StartBackupJob's answer: the executor reports a gone one.
    retry = 'planned';
    intents.push({
      kind: 'backup.retry-job',
      failedJobId: job.id,
      ...verdict.allowed,
      idempotencyToken: retryTokenOf(signal, job.id),
      deleteAfterDays: settings.retryDeleteAfterDays,
      reason: `job ${job.id} ${job.state}; the failure is not one a retry cannot fix; retried once`,
    });
    retrySentence =
      ' Retried once, unless AWS Backup finds its resource gone: the failure is not one a retry cannot fix.';
  }
  if (why !== undefined) {
    retrySentence = ` Not retried: ${why}.`;
    notes.push({
      decision: 'skipped',
      reason: gathered.retryOf !== undefined ? 'limit-reached' : 'out-of-scope',
      detail: `did not retry job ${job.id}: ${why}`,
      withheld: 'backup.retry-job',
    });
  }

  const failedRetry = gathered.retryOf !== undefined;
  const severity = facts.outcome === 'failed' ? settings.severity : settings.completedWithIssuesSeverity;
  const what =
    facts.outcome === 'failed'
      ? `The ${job.type} job ended ${job.state}: ${asSentence(job.statusMessage ?? 'AWS Backup gave no status message')}`
      : `The ${job.type} job completed with issues: ${asSentence(job.statusMessage ?? '')} Check that its recovery point holds what it should.`;
  const retried = failedRetry
    ? ` This job is the retry this function started for failed job ${gathered.retryOf}, and it failed too.`
    : '';
  const page = pageIntent(signal, {
    notice: 'incident',
    severity,
    reason: `${what}${retried}${retrySentence}`,
    nothingDone: 'Nothing else: look at the status message and the job in the AWS Backup console.',
    say: {
      ...(failedRetry ? { title: `Retry failed: ${signal.title}` } : {}),
      evidence: {
        ...jobEvidence(job),
        ...(failedRetry ? { retryOf: gathered.retryOf ?? '' } : {}),
      },
    },
  });
  // In plan order: the page reports what the retry came to, its job id included.
  intents.push(page);
  return {
    intents,
    notes,
    findings: { decision: 'page', retry, ...(why !== undefined ? { why } : {}) },
  };
}
