/**
 * Handler layer, issues 19 and 20: a backup retry onBackupFailure recorded for member account A's failed
 * job waits for approval; approveAction reads the job again in A (DescribeBackupJob) and starts the
 * retry in A, through A's member role.
 */
import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import {
  answerMemberStage,
  asCentral,
  callsOf,
  leaveMemberApprovalStage,
  MEMBER_A,
  type MemberStage,
  memberApprovalStage,
  whereCalled,
} from '../support/approvalMemberStage.ts';

const aws = await mockAwsClients();
const sts = aws.of(STSClient);
let onBackupFailure: typeof import('#functions/onBackupFailure/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;
let stage: MemberStage;
const FAILED_JOB = '8f1e4a2c-6b7d-4c1e-9f3a-2d5b7c9e1a40';
/** What a value of the fixture's account and region is in A's eu-west-1. */
const inA = (text: string) => text.replaceAll('123456789012', MEMBER_A).replaceAll('us-east-1', 'eu-west-1');

beforeAll(async () => {
  memberApprovalStage();
  ({ handler: onBackupFailure } = await import('#functions/onBackupFailure/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(leaveMemberApprovalStage);

beforeEach(() => {
  stage = answerMemberStage(aws);
  const backup = aws.of(BackupClient);
  // AWS's answer for the job, in whichever account asks: a failed EBS backup a retry can fix.
  backup.on(DescribeBackupJobCommand).callsFake(async (input: unknown, getClient: () => unknown) => {
    const where = await whereCalled(getClient());
    stage.calls.push({ command: 'DescribeBackupJob', ...where, input });
    return {
      AccountId: where.account,
      BackupJobId: FAILED_JOB,
      State: 'FAILED',
      StatusMessage: 'An internal error occurred while creating the snapshot. Please retry the backup job.',
      BackupVaultName: 'vault-aws-knows',
      ResourceArn: `arn:aws:ec2:${where.region}:${where.account}:volume/vol-0a1b2c3d4e5f60718`,
      ResourceType: 'EBS',
      IamRoleArn: `arn:aws:iam::${where.account}:role/backup-role-aws-knows`,
      CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' },
    };
  });
  backup.on(StartBackupJobCommand).callsFake(async (input: unknown, getClient: () => unknown) => {
    stage.calls.push({ command: 'StartBackupJob', ...(await whereCalled(getClient())), input });
    return { BackupJobId: 'retry-job-1' };
  });
});

describe("approveAction: a backup retry recorded for a member account's failed job", () => {
  it('reads the job again in A and starts the retry in A, with the vault and role AWS names there', async () => {
    // Arrange
    const failure = JSON.parse(
      inA(JSON.stringify(loadFixture('onBackupFailure/backup-job-failed-ebs.json'))),
    );
    await asCentral('onBackupFailure', onBackupFailure, failure);
    const approvalId = stage.table.approvals()[0]?.approvalId;
    if (typeof approvalId !== 'string') throw new Error('no retry waits for approval in A');
    expect(callsOf(stage, 'StartBackupJob')).toEqual([]);
    stage.calls.length = 0;
    sts.resetHistory();
    resetMemberCredentialsForTests();
    resetServedAccountsForTests();
    resetKillSwitchForTests();
    // Act
    const answer = (await asCentral('approveAction', approveAction, {
      approvalId,
      decision: 'approve',
      approvedBy: 'Ana Ops',
    })) as { refused?: string; message?: string; decided?: string };
    // Assert
    expect(answer.refused, answer.message).toBeUndefined();
    expect(callsOf(stage, 'DescribeBackupJob')).toEqual([
      expect.objectContaining({ account: MEMBER_A, region: 'eu-west-1' }),
    ]);
    expect(callsOf(stage, 'StartBackupJob')).toEqual([
      expect.objectContaining({
        account: MEMBER_A,
        region: 'eu-west-1',
        input: expect.objectContaining({
          BackupVaultName: 'vault-aws-knows',
          IamRoleArn: `arn:aws:iam::${MEMBER_A}:role/backup-role-aws-knows`,
        }),
      }),
    ]);
    expect(answer.decided).toContain(`in account ${MEMBER_A} eu-west-1`);
  });
});
