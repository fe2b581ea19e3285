import { describe, expect, it } from 'vitest';
import { planBackupFailure } from '#functions/onBackupFailure/plan.ts';
import { BackupFailureEvent } from '#functions/onBackupFailure/schema.ts';
import { observeBackupFailure } from '#functions/onBackupFailure/signal.ts';
import { type AwsBackupJob, retryVerdict } from '#shared/backup/retryVerdict.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

// Found by an adversarial review (the third).
// "A job is retried at most once" rests on two state-table records (the claim
// `backup-retry#<failed job>` and `backup-retry-job#<retry job>`) that expire after 90 days. Nothing
// else bounds how old a failure may be when it is retried: the event's age is checked by Lambda's
// maximumEventAge only, and an EventBridge archive replay or a manual invoke delivers a fresh event
// for an old job. Once the records have expired, the replayed failure of a *retry job* is not known as
// one (retryOf finds nothing) and is retried again (a retry of a retry), and the replayed failure of
// the original job is retried a second time. AWS's own answer (DescribeBackupJob) says when the job
// ran; a job that failed months ago is not one to retry now.

const observe = () =>
  observeBackupFailure(BackupFailureEvent.parse(loadFixture('onBackupFailure/backup-job-failed-ebs.json')));

const DAY_MS = 86_400_000;
const longAgo = new Date(Date.now() - 120 * DAY_MS);

/** What DescribeBackupJob answers for a job that failed 120 days ago (the records are gone by then). */
const oldAwsJob = {
  accountId: '123456789012',
  state: 'FAILED',
  statusMessage: 'An internal error occurred while creating the snapshot. Please retry the backup job.',
  backupVaultName: 'Default',
  resourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60718',
  resourceType: 'EBS',
  iamRoleArn: 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole',
  creationDate: longAgo.toISOString(),
  completionDate: new Date(longAgo.getTime() + 600_000).toISOString(),
} as AwsBackupJob;

const retryOn = makeConfig({ backupFailure: { retry: true } });

describe('a failed backup job that AWS says ran months ago (replayed or late event)', () => {
  it('is not retried: its retry records may have expired, so a retry could be a second one or a retry of a retry', () => {
    // Arrange
    const observed = observe();
    // Act
    const verdict = retryVerdict({
      facts: observed.facts,
      settings: retryOn.backupFailure,
      account: '123456789012',
      region: 'us-east-1',
      aws: { job: oldAwsJob },
    });
    const result = planBackupFailure({
      ...observed,
      gathered: { aws: { job: oldAwsJob } },
      config: retryOn,
    });
    // Assert
    expect(verdict.candidate && 'blocked' in verdict ? verdict.blocked : 'allowed').toMatch(/days ago/);
    expect(result.intents.map((i) => i.kind)).toEqual(['sns.page']);
  });
});
