import { describe, expect, it } from 'vitest';
import type { BackupFailureGathered } from '#functions/onBackupFailure/gather.ts';
import { planBackupFailure, retryTokenOf } from '#functions/onBackupFailure/plan.ts';
import { BackupFailureEvent } from '#functions/onBackupFailure/schema.ts';
import { observeBackupFailure } from '#functions/onBackupFailure/signal.ts';
import { type AwsBackupJob, retryVerdict, unfixableBy } from '#shared/backup/retryVerdict.ts';
import type { PageIntent, RetryBackupIntent } from '#shared/domain/intent.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

const observe = (fixture: string) =>
  observeBackupFailure(BackupFailureEvent.parse(loadFixture(`onBackupFailure/${fixture}`)));

/** What DescribeBackupJob answers for the EBS fixture's job. */
const awsEbsJob: AwsBackupJob = {
  accountId: '123456789012',
  state: 'FAILED',
  statusMessage: 'An internal error occurred while creating the snapshot. Please retry the backup job.',
  backupVaultName: 'Default',
  resourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60718',
  resourceType: 'EBS',
  iamRoleArn: 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole',
  backupPlanId: 'plan-from-aws',
  backupRuleId: 'rule-from-aws',
};

const retryOn = makeConfig({ backupFailure: { retry: true } });

function plan(fixture: string, gathered: BackupFailureGathered, config = retryOn) {
  return planBackupFailure({ ...observe(fixture), gathered, config });
}

const pageOf = (intents: { kind: string }[]) => intents.find((i) => i.kind === 'sns.page') as PageIntent;

describe('onBackupFailure schema and signal', () => {
  it('reads sizes sent as a string (backup jobs) and as a number (copy jobs) as the same number of bytes', () => {
    // Act
    const backup = observe('backup-job-completed-with-issues.json');
    const copy = observe('copy-job-failed.json');
    // Assert
    expect(backup.facts.job.sizeBytes).toBe(36048);
    expect(copy.facts.job.sizeBytes).toBe(8589934592);
    expect(copy.signal.evidence.size).toBe('8 GiB (8589934592 bytes)');
  });

  it("reads a restore job's `status` as the job's state, as a backup job's `state`", () => {
    // Act
    const restore = observe('restore-job-failed.json');
    const backup = observe('backup-job-failed.json');
    // Assert
    expect(restore.facts).toMatchObject({ outcome: 'failed', job: { type: 'restore', state: 'FAILED' } });
    expect(backup.facts).toMatchObject({ outcome: 'failed', job: { type: 'backup', state: 'FAILED' } });
  });

  it('refuses a state the rules never route, naming the field', () => {
    // Arrange
    const running = loadFixture('onBackupFailure/backup-job-running.json');
    // Act
    const parsed = BackupFailureEvent.safeParse(running);
    // Assert
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['detail.state']);
  });

  it('keys the incident on the job id, and shows the status message without the quotes AWS put around it', () => {
    // Act
    const { signal } = observe('backup-job-failed.json');
    // Assert
    expect(signal.incidentKey).toBe(
      'backup-job:123456789012:us-east-1:backup:34176239-e96d-4e1d-9fad-529dbb3c3556',
    );
    expect(signal.evidence.statusMessage).toBe(
      'Backup job failed because backup vault arn:aws:backup:us-east-1:123456789012:backup-vault:9ab3e749-82c6-4342-9320-5edbf4918b86 does not exist.',
    );
    expect(signal.links[0]?.url).toBe(
      'https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1#/jobs/backup/details/34176239-e96d-4e1d-9fad-529dbb3c3556',
    );
  });

  it('names an RDS database and a restore by their names, once, and ends the summary with one full stop', () => {
    // Act
    const expired = observe('backup-job-expired.json');
    const restore = observe('restore-job-failed.json');
    // Assert
    expect(expired.signal.title).toBe('Backup job EXPIRED: RDS billing (vault Default)');
    expect(restore.signal.title).toBe('Restore job FAILED: RDS job-7b8c9d0e (vault Default)');
    expect(restore.signal.summary).toMatch(/DB instance billing-restore already exists\.$/);
  });

  it('names the source and destination vaults and regions of a copy job', () => {
    // Act
    const { signal } = observe('copy-job-failed.json');
    // Assert
    expect(signal.title).toBe('Copy job FAILED: EBS vol-0a1b2c3d4e5f60718 to dr-copies (eu-west-1)');
    expect(signal.evidence).toMatchObject({
      sourceVault: 'Default in us-east-1 (arn:aws:backup:us-east-1:123456789012:backup-vault:Default)',
      destinationVault:
        'dr-copies in eu-west-1 (arn:aws:backup:eu-west-1:123456789012:backup-vault:dr-copies)',
    });
  });
});

describe('onBackupFailure retry verdict', () => {
  it.each([
    ['Access Denied: not authorized to perform ec2:CreateSnapshot', 'missing permissions'],
    ['The resource arn:aws:ec2:...:volume/vol-1 does not exist', 'a deleted or missing resource or vault'],
    ['Backup vault access policy denies the role', 'a backup vault access policy'],
    ['An internal error occurred. Please retry.', undefined],
  ])('reads %j as %s', (message, kind) => {
    // Act / Assert
    expect(unfixableBy(message)).toBe(kind);
  });

  it("uses AWS's vault, resource and role for the retry, never the event's", () => {
    // Arrange: a crafted event names another volume, vault and role than the job AWS knows.
    const observed = observe('backup-job-failed-ebs.json');
    observed.facts.job.resourceArn = 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0ffffffffffffffff';
    observed.facts.job.iamRoleArn = 'arn:aws:iam::123456789012:role/Admin';
    // Act
    const verdict = retryVerdict({
      facts: observed.facts,
      settings: retryOn.backupFailure,
      account: '123456789012',
      region: 'us-east-1',
      aws: { job: awsEbsJob },
    });
    // Assert
    expect(verdict).toEqual({
      candidate: true,
      allowed: {
        backupVaultName: 'Default',
        resourceArn: awsEbsJob.resourceArn,
        resourceType: 'EBS',
        iamRoleArn: awsEbsJob.iamRoleArn,
      },
    });
  });

  it.each([
    ['AWS cannot be read', { unreadable: 'AccessDeniedException: no' }, /could not be read back/],
    ['AWS says it completed', { job: { ...awsEbsJob, state: 'COMPLETED' } }, /reports the job as COMPLETED/],
    [
      "AWS's message says permissions",
      { job: { ...awsEbsJob, statusMessage: 'Access denied for the role' } },
      /missing permissions/,
    ],
    [
      'the role is in another account',
      { job: { ...awsEbsJob, iamRoleArn: 'arn:aws:iam::999999999999:role/x' } },
      /not in account 123456789012/,
    ],
    [
      'the resource is in another region',
      { job: { ...awsEbsJob, resourceArn: 'arn:aws:ec2:eu-west-1:123456789012:volume/vol-1' } },
      /not in this function's account 123456789012 and region us-east-1/,
    ],
    [
      'the resource is in another account',
      { job: { ...awsEbsJob, resourceArn: 'arn:aws:ec2:us-east-1:999999999999:volume/vol-1' } },
      /not in this function's account 123456789012 and region us-east-1/,
    ],
    [
      "the resource's ARN names no account or region",
      { job: { ...awsEbsJob, resourceType: 'S3', resourceArn: 'arn:aws:s3:::a-bucket' } },
      /names no account and region/,
    ],
  ] as const)('does not retry when %s', (_case, aws, why) => {
    // Act
    const verdict = retryVerdict({
      facts: observe('backup-job-failed-ebs.json').facts,
      settings: retryOn.backupFailure,
      account: '123456789012',
      region: 'us-east-1',
      aws,
    });
    // Assert
    expect(verdict.candidate && 'blocked' in verdict ? verdict.blocked : '').toMatch(why);
  });
});

describe('onBackupFailure plan', () => {
  it('retries a failed backup job whose resource exists, then pages, with a token derived from the job', () => {
    // Act
    const result = plan('backup-job-failed-ebs.json', { aws: { job: awsEbsJob } });
    // Assert
    expect(result.intents.map((i) => i.kind)).toEqual(['backup.retry-job', 'sns.page']);
    const retry = result.intents[0] as RetryBackupIntent;
    expect(retry).toMatchObject({
      failedJobId: '8f1e4a2c-6b7d-4c1e-9f3a-2d5b7c9e1a40',
      backupVaultName: 'Default',
      deleteAfterDays: 35,
    });
    // Another delivery of the same failure asks for the same retry.
    const again = observe('backup-job-failed-ebs.json');
    again.signal.correlationId = 'another-delivery';
    expect(retry.idempotencyToken).toBe(retryTokenOf(again.signal, retry.failedJobId));
    expect(pageOf(result.intents).content.evidence).toMatchObject({
      backupPlan: 'plan-from-aws',
      backupRule: 'rule-from-aws',
    });
  });

  it('plans the retry without asking whether the resource exists, and the page leaves that to AWS Backup', () => {
    // Act
    const result = plan('backup-job-failed-ebs.json', { aws: { job: awsEbsJob } });
    // Assert
    expect(result.intents.map((i) => i.kind)).toEqual(['backup.retry-job', 'sns.page']);
    expect(pageOf(result.intents).content.reason).toContain(
      'Retried once, unless AWS Backup finds its resource gone: the failure is not one a retry cannot fix.',
    );
    expect(result.findings?.retry).toBe('planned');
  });

  it('pages a failed retry of ours as "Retry failed" and retries it no more', () => {
    // Act
    const result = plan('backup-job-failed-ebs.json', {
      retryOf: 'the-original-job',
      aws: { job: awsEbsJob },
    });
    // Assert
    expect(result.intents.map((i) => i.kind)).toEqual(['sns.page']);
    const page = pageOf(result.intents);
    expect(page.content.title).toMatch(/^Retry failed: Backup job FAILED: EBS vol-0a1b2c3d4e5f60718/);
    expect(page.content.reason).toContain(
      'This job is the retry this function started for failed job the-original-job, and it failed too.',
    );
    expect(result.findings?.retry).toBe('retry-failed');
  });

  it('retries nothing on a stage with retries off, and says so', () => {
    // Act
    const result = plan(
      'backup-job-failed-ebs.json',
      { aws: { job: awsEbsJob } },
      makeConfig({ backupFailure: { retry: false } }),
    );
    // Assert
    expect(result.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(pageOf(result.intents).content.reason).toContain('retries are off on this stage');
  });

  it('never retries a copy or restore job, and pages them at the failure severity', () => {
    // Act
    const copy = plan('copy-job-failed.json', {});
    const restore = plan('restore-job-failed.json', {});
    // Assert
    for (const result of [copy, restore]) {
      expect(result.intents.map((i) => i.kind)).toEqual(['sns.page']);
      expect(pageOf(result.intents).severity).toBe('high');
    }
  });

  it('pages a job completed with issues as a warning, or records it on a stage that says so', () => {
    // Act
    const paged = plan('backup-job-completed-with-issues.json', {});
    const recorded = plan(
      'backup-job-completed-with-issues.json',
      {},
      makeConfig({ backupFailure: { completedWithIssues: 'record' } }),
    );
    // Assert
    expect(pageOf(paged.intents).severity).toBe('warning');
    expect(pageOf(paged.intents).content.reason).toContain(
      'The backup job completed with issues: Windows VSS Backup Job Error encountered, trying for regular backup.',
    );
    expect(recorded.intents).toEqual([]);
    expect(recorded.notes).toEqual([
      expect.objectContaining({ reason: 'record-only', withheld: 'sns.page' }),
    ]);
  });
});
