import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCalendarStateCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetChangeFreezeForTests } from '#shared/runtime/changeFreeze.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable, isApprovalRecord } from '../support/approvalTable.ts';
import { latch } from '../support/latch.ts';

// Handler layer: onBackupFailure records a pending retry of a failed backup job on a stage whose retry
// asks for approval; approveAction decides it and retries through onBackupFailure's own executor.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const backup = aws.of(BackupClient);
const documents = aws.of(DynamoDBDocumentClient);
let onBackupFailure: typeof import('#functions/onBackupFailure/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;

const STAGE = 'approve-backup-retry-test';
const ON_BACKUP_FAILURE = `ops-autopilot-${STAGE}-onBackupFailure`;
const APPROVE_ACTION = `ops-autopilot-${STAGE}-approveAction`;
const FAILED_JOB = '8f1e4a2c-6b7d-4c1e-9f3a-2d5b7c9e1a40';
/** AWS's answer for the EBS fixture's job: what a retry backs up, where and as whom. */
const AWS_JOB = {
  AccountId: '123456789012',
  BackupJobId: FAILED_JOB,
  State: 'FAILED' as const,
  StatusMessage: 'An internal error occurred while creating the snapshot. Please retry the backup job.',
  BackupVaultName: 'vault-aws-knows',
  ResourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60718',
  ResourceType: 'EBS',
  IamRoleArn: 'arn:aws:iam::123456789012:role/backup-role-aws-knows',
  CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' },
};
let table: ApprovalTable;

beforeAll(async () => {
  stages[STAGE] = { dryRun: false, backupFailure: { retry: true, approval: 'required' } };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler: onBackupFailure } = await import('#functions/onBackupFailure/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

function asFunction(name: string): void {
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  resetConfigForTests();
}

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  resetKillSwitchForTests();
  delete process.env.DRY_RUN;
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  backup.on(DescribeBackupJobCommand).resolves(AWS_JOB);
  backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'retry-job-1' });
});

type Outcomes = {
  outcomes: { kind: string; status: string; reason?: string; refs?: Record<string, string> }[];
};
const ebsFailure = () => loadFixture('onBackupFailure/backup-job-failed-ebs.json');
const starts = () => backup.commandCalls(StartBackupJobCommand);
const stored = (approvalId: string) =>
  table.items.get(`ops-autopilot-${STAGE}#shared#approval#${approvalId}`);

/** onBackupFailure takes the failure and records a pending retry: its approval id. */
async function pendingRetry(): Promise<string> {
  asFunction(ON_BACKUP_FAILURE);
  const result = (await onBackupFailure(ebsFailure() as never, makeContext(ON_BACKUP_FAILURE))) as Outcomes;
  const approvalId = result.outcomes.find((o) => o.kind === 'backup.retry-job')?.refs?.approvalId;
  if (!approvalId) throw new Error('no approval recorded');
  asFunction(APPROVE_ACTION);
  backup.resetHistory();
  sns.resetHistory();
  documents.resetHistory();
  return approvalId;
}

type Answer = { refused?: string; message?: string; decided?: string };
const decide = (data: Record<string, unknown>) =>
  approveAction(data as never, makeContext(APPROVE_ACTION)) as Promise<Answer>;
const approve = (approvalId: string, extra: Record<string, unknown> = {}) =>
  decide({ approvalId, decision: 'approve', approvedBy: 'Ana Ops', ...extra });

describe('onBackupFailure: a retry that needs approval', () => {
  it('starts no backup on the failure, records one pending retry and pages its id and command', async () => {
    // Arrange
    asFunction(ON_BACKUP_FAILURE);
    // Act
    const result = (await onBackupFailure(ebsFailure() as never, makeContext(ON_BACKUP_FAILURE))) as Outcomes;
    // Assert
    expect(starts()).toHaveLength(0);
    const retry = result.outcomes.find((o) => o.kind === 'backup.retry-job');
    expect(retry).toMatchObject({ status: 'skipped', reason: 'approval-pending' });
    const approvalId = retry?.refs?.approvalId ?? '';
    expect(table.approvals()).toEqual([
      expect.objectContaining({
        approvalId,
        status: 'pending',
        owner: 'onBackupFailure',
        rule: 'backup-retry',
      }),
    ]);
    const body = String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(body).toContain('SKIPPED (approval-pending)');
    expect(body).toContain('into vault vault-aws-knows');
    expect(body).toContain(`--data '{"approvalId":"${approvalId}","decision":"approve"`);
  });

  it('on a dry run previews the retry and records no approval', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    asFunction(ON_BACKUP_FAILURE);
    // Act
    const result = (await onBackupFailure(ebsFailure() as never, makeContext(ON_BACKUP_FAILURE))) as Outcomes;
    // Assert
    expect(result.outcomes.find((o) => o.kind === 'backup.retry-job')?.reason).toBe('dry-run');
    expect(table.approvalRecords()).toEqual([]);
    expect(starts()).toHaveLength(0);
  });

  it('under the kill switch or a closed calendar previews the retry and records no approval', async () => {
    // Arrange
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    asFunction(ON_BACKUP_FAILURE);
    // Act
    const killed = (await onBackupFailure(ebsFailure() as never, makeContext(ON_BACKUP_FAILURE))) as Outcomes;
    // Arrange: the switch off, the retry's own calendar closed.
    withoutKillSwitch(ssm);
    resetKillSwitchForTests();
    const settings = stages[STAGE]?.backupFailure as { changeCalendars?: string[] };
    settings.changeCalendars = ['backup-freeze'];
    resetConfigForTests();
    resetChangeFreezeForTests();
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED' });
    try {
      // Act
      const frozen = (await onBackupFailure(
        ebsFailure() as never,
        makeContext(ON_BACKUP_FAILURE),
      )) as Outcomes;
      // Assert
      expect(killed.outcomes.find((o) => o.kind === 'backup.retry-job')?.reason).toBe('dry-run');
      expect(frozen.outcomes.find((o) => o.kind === 'backup.retry-job')?.reason).toBe('change-freeze');
      expect(table.approvalRecords()).toEqual([]);
      expect(starts()).toHaveLength(0);
    } finally {
      delete settings.changeCalendars;
      resetChangeFreezeForTests();
    }
  });

  it('refuses approval on a stage that does not retry, naming the field', () => {
    // Assert
    expect(() => parseStageConfig('x', { dryRun: false, backupFailure: { approval: 'required' } })).toThrow(
      /backupFailure\.approval: a retry waits for approval only when backupFailure\.retry is true/,
    );
  });
});

describe('approveAction: approve a pending backup retry', () => {
  it("retries once with AWS's vault, resource and role, as onBackupFailure (its retry claim)", async () => {
    // Arrange
    const approvalId = await pendingRetry();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(starts()).toHaveLength(1);
    expect(starts()[0]?.args[0].input).toMatchObject({
      BackupVaultName: 'vault-aws-knows',
      ResourceArn: AWS_JOB.ResourceArn,
      IamRoleArn: AWS_JOB.IamRoleArn,
    });
    expect(answer.decided).toContain(`approved ${approvalId} by Ana Ops: started backup job retry-job-1`);
    // Its retry claim and rate guard window are onBackupFailure's records.
    const claimed = documents
      .commandCalls(TransactWriteCommand)
      .flatMap((c) => c.args[0].input.TransactItems ?? [])
      .map((t) => String(t.Update?.Key?.id));
    expect(claimed).toContain(`${ON_BACKUP_FAILURE}#backup-retry#${FAILED_JOB}`);
    expect(claimed).toContainEqual(
      expect.stringMatching(new RegExp(`^${ON_BACKUP_FAILURE}#rate-guard#backup-retry#`)),
    );
  });

  it('retries once when it is approved twice at the same time: the second is refused as decided', async () => {
    // Arrange: both invocations read the pending record before either decides.
    const approvalId = await pendingRetry();
    const gate = latch();
    table.holdReads(gate, () => {
      if (table.reads() === 2) gate.open();
    });
    // Act
    const answers = await Promise.all([approve(approvalId), approve(approvalId, { approvedBy: 'Bo Ops' })]);
    // Assert
    expect(starts()).toHaveLength(1);
    expect(answers.filter((a) => a.decided)).toHaveLength(1);
    expect(answers.filter((a) => a.refused === 'decided')).toHaveLength(1);
  });

  it('on a dry run says what it would start, and neither starts nor decides', async () => {
    // Arrange
    const approvalId = await pendingRetry();
    // Act
    const answer = await approve(approvalId, { dryRun: true });
    // Assert
    expect(answer.decided).toContain(
      `would approve ${approvalId} for Ana Ops and then: would start a backup`,
    );
    expect(starts()).toHaveLength(0);
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(
      documents.commandCalls(UpdateCommand).filter((c) => isApprovalRecord(c.args[0].input.Key?.id)),
    ).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });
});

describe('approveAction: a pending backup retry refused', () => {
  it('records a rejection and starts nothing; the id cannot be used again', async () => {
    // Arrange
    const approvalId = await pendingRetry();
    // Act
    const answer = await decide({ approvalId, decision: 'reject', approvedBy: 'Ana Ops' });
    // Assert
    expect(answer.decided).toContain(`rejected ${approvalId} by Ana Ops`);
    expect(await approve(approvalId)).toMatchObject({ refused: 'decided' });
    expect(starts()).toHaveLength(0);
  });

  it('refuses an expired id', async () => {
    // Arrange
    const approvalId = await pendingRetry();
    (stored(approvalId) as { expiresAt: number }).expiresAt = Math.floor(Date.now() / 1000) - 1;
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toMatchObject({ refused: 'expired' });
    expect(starts()).toHaveLength(0);
  });

  it('refuses after the kill switch was set, and leaves the approval pending', async () => {
    // Arrange
    const approvalId = await pendingRetry();
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    resetKillSwitchForTests();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'kill-switch', message: expect.stringContaining('stays pending') });
    expect(starts()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });

  it.each([
    ['the job is no longer failed', { State: 'COMPLETED' as const }, 'not FAILED or ABORTED'],
    ['AWS now names another vault', { BackupVaultName: 'another-vault' }, 'vault another-vault'],
    [
      'its resource is now in another account',
      { ResourceArn: 'arn:aws:ec2:us-east-1:210987654321:volume/vol-0a1b2c3d4e5f60718' },
      'not in this function',
    ],
  ])('refuses as out of scope when %s', async (_case, now, named) => {
    // Arrange
    const approvalId = await pendingRetry();
    backup.on(DescribeBackupJobCommand).resolves({ ...AWS_JOB, ...now });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'out-of-scope', message: expect.stringContaining(named) });
    expect(starts()).toHaveLength(0);
  });

  it('refuses a job that was retried meanwhile, naming the retry', async () => {
    // Arrange: onBackupFailure's retry claim for the job exists (another delivery's retry).
    const approvalId = await pendingRetry();
    table.otherReads((id) =>
      id === `${ON_BACKUP_FAILURE}#backup-retry#${FAILED_JOB}`
        ? { failedJobId: FAILED_JOB, claimedBy: 'other', claimedAt: 1_765_000_000, retryJobId: 'retry-job-0' }
        : undefined,
    );
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'resolved', message: expect.stringContaining('as job retry-job-0') });
    expect(starts()).toHaveLength(0);
  });
});
