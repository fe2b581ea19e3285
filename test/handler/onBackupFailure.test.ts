import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { UNPAIRED_SURROGATE } from '#shared/domain/text.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { encodeLikeTheQueryProtocol } from '../support/unicode.ts';

// Handler layer: every AWS client mocked, so failure paths can be forced.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const dynamodb = aws.of(DynamoDBClient);
const documents = aws.of(DynamoDBDocumentClient);
const backup = aws.of(BackupClient);
const ec2 = aws.of(EC2Client);
let handler: typeof import('#functions/onBackupFailure/handler.ts').handler;

const FAILED_JOB = '8f1e4a2c-6b7d-4c1e-9f3a-2d5b7c9e1a40';
/** AWS's answer for the EBS fixture's job: another vault and role than the event names. */
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

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onBackupFailure/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  // An empty table: every conditional write succeeds, nothing is in progress.
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  backup.on(DescribeBackupJobCommand).resolves(AWS_JOB);
  backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'retry-job-1' });
  ec2
    .on(DescribeVolumesCommand)
    .resolves({ Volumes: [{ VolumeId: 'vol-0a1b2c3d4e5f60718', State: 'in-use' }] });
});

const invoke = (event: unknown) => handler(event as never, makeContext());
const ebsFailure = () => loadFixture('onBackupFailure/backup-job-failed-ebs.json');
/** Every item the state table was asked to put, alone or in a transaction. */
const putItems = () => [
  ...documents.commandCalls(PutCommand).map((c) => c.args[0].input.Item),
  ...documents
    .commandCalls(TransactWriteCommand)
    .flatMap((c) => c.args[0].input.TransactItems ?? [])
    .flatMap((t) => (t.Put ? [t.Put.Item] : [])),
];
const pageBody = () => sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';

describe('onBackupFailure handler: invalid events', () => {
  const invalid = listFixtures().filter((f) => f.startsWith('onBackupFailure/invalid/'));

  it('has invalid fixtures to check', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(5);
  });

  it.each(invalid)(
    'rejects %s with an error naming the field, reads and pages nothing, counts InvalidEvent',
    async (fixture) => {
      // Arrange
      const addMetric = vi.spyOn(metrics, 'addMetric');
      // Act
      const error = await invoke(loadFixture(fixture)).catch((e: unknown) => e);
      // Assert
      expect((error as Error).name).toBe('InvalidEventError');
      expect((error as Error).message).toMatch(/^onBackupFailure: invalid event: detail\.\S+: /);
      expect(sns.calls()).toHaveLength(0);
      expect(backup.calls()).toHaveLength(0);
      expect(documents.calls()).toHaveLength(0);
      expect(addMetric).toHaveBeenCalledWith('InvalidEvent', 'Count', 1);
      addMetric.mockRestore();
    },
  );
});

describe('onBackupFailure handler: unpaired surrogates', () => {
  it('refuses a job whose detail.iamRoleArn holds an unpaired surrogate, before any AWS call, instead of a page that can never be sent', async () => {
    // Arrange: SNS encodes the page as its query protocol does, so a page with the surrogate throws URIError.
    sns.on(PublishCommand).callsFake((input: unknown) => {
      encodeLikeTheQueryProtocol(input);
      return { MessageId: 'm-1' };
    });
    // Act
    const error = await invoke(loadFixture('onBackupFailure/invalid/lone-surrogate-role-arn.json')).catch(
      (e: unknown) => e,
    );
    // Assert
    expect(error).toMatchObject({ name: 'InvalidEventError' });
    expect((error as Error).message).toContain(`detail.iamRoleArn: ${UNPAIRED_SURROGATE}`);
    expect(aws.calls()).toEqual([]);
  });
});

describe('onBackupFailure handler: retry', () => {
  it('in dry-run, starts no backup and pages what it would start', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(documents.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key?.id)).not.toContainEqual(
      expect.stringContaining('#backup-retry#'),
    );
    expect(pageBody()).toContain(
      `SKIPPED (dry-run) backup.retry-job: would start a backup of ${AWS_JOB.ResourceArn} into vault vault-aws-knows`,
    );
    // Nothing reads the resource in a dry run either: the preview says who checks it.
    expect(pageBody()).toContain('AWS Backup refuses the retry if the resource no longer exists');
    expect(ec2.calls()).toHaveLength(0);
  });

  it("live, retries once with AWS's vault, resource and role and a token from the job, and pages the retry's job id", async () => {
    // Act
    await invoke(ebsFailure());
    // Assert
    const starts = backup.commandCalls(StartBackupJobCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]?.args[0].input).toMatchObject({
      BackupVaultName: 'vault-aws-knows',
      ResourceArn: AWS_JOB.ResourceArn,
      IamRoleArn: AWS_JOB.IamRoleArn,
      IdempotencyToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
      Lifecycle: { DeleteAfterDays: 35 },
    });
    expect(pageBody()).toContain('DONE backup.retry-job: started backup job retry-job-1');
    // StartBackupJob checks the resource itself: no EC2 or DynamoDB describe call first.
    expect(ec2.calls()).toHaveLength(0);
    expect(dynamodb.commandCalls(DescribeTableCommand)).toHaveLength(0);
    // The retry job is recorded as ours, so its own failure is not retried.
    expect(putItems()).toContainEqual(
      expect.objectContaining({ id: 'ops-autopilot-test#backup-retry-job#retry-job-1', retryOf: FAILED_JOB }),
    );
  });

  it('pages a retry that fails to start, saying so, and fails the delivery so Lambda retries it', async () => {
    // Arrange
    backup
      .on(StartBackupJobCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    // Act
    const error = await invoke(ebsFailure()).catch((e: unknown) => e);
    // Assert
    expect((error as Error).name).toBe('ActionFailedError');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(pageBody()).toContain(
      'FAILED backup.retry-job: could not start a backup of arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f60718',
    );
    expect(pageBody()).toContain('[ThrottlingException: Rate exceeded]');
  });

  it('pages a failed retry of ours as "Retry failed" and starts no other', async () => {
    // Arrange: the state table knows this job as the retry of another.
    documents
      .on(GetCommand, { Key: { id: `ops-autopilot-test#backup-retry-job#${FAILED_JOB}` } })
      .resolves({ Item: { retryOf: 'the-original-job' } });
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toMatch(
      /^\[HIGH\] backup\.job: Retry failed: Backup job FAILED: EBS vol-0a1b2c3d4e5f60718/,
    );
    expect(pageBody()).toContain('the retry this function started for failed job the-original-job');
  });

  it('starts no retry for a duplicate delivery of a failure another delivery already retried', async () => {
    // Arrange: the claim of this job's retry (the transaction's second item, after the rate guard's
    // slot) is held by another delivery.
    documents.on(TransactWriteCommand).rejects(
      Object.assign(new Error('held'), {
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    );
    documents.on(GetCommand, { Key: { id: `ops-autopilot-test#backup-retry#${FAILED_JOB}` } }).resolves({
      Item: { claimedBy: 'first-delivery', claimedAt: 1_750_000_000, retryJobId: 'retry-job-1' },
    });
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(pageBody()).toContain(
      `SKIPPED (limit-reached) backup.retry-job: did not retry job ${FAILED_JOB} again: it is retried at most once, already as job retry-job-1`,
    );
  });

  it('does not retry when StartBackupJob reports the volume gone, pages why, and does not fail the delivery', async () => {
    // Arrange: AWS Backup refuses the retry of a deleted volume itself.
    backup.on(StartBackupJobCommand).rejects(
      Object.assign(new Error(`Cannot find resource ${AWS_JOB.ResourceArn}`), {
        name: 'ResourceNotFoundException',
        $metadata: {},
      }),
    );
    // Act
    const result = await invoke(ebsFailure());
    // Assert
    expect(result).toMatchObject({
      outcomes: expect.arrayContaining([
        expect.objectContaining({ kind: 'backup.retry-job', status: 'skipped', reason: 'out-of-scope' }),
      ]),
    });
    expect(ec2.calls()).toHaveLength(0);
    expect(pageBody()).toContain(
      'Not retried: its resource no longer exists: volume vol-0a1b2c3d4e5f60718 no longer exists.',
    );
    expect(pageBody()).not.toContain('FAILED backup.retry-job');
    // No retry job was started, so none is recorded as ours.
    expect(putItems().map((item) => String(item?.id))).not.toContainEqual(
      expect.stringContaining('#backup-retry-job#'),
    );
  });

  it('does not retry when StartBackupJob says the vault is gone, and the page names the vault', async () => {
    // Arrange
    backup.on(StartBackupJobCommand).rejects(
      Object.assign(new Error('Backup vault with name vault-aws-knows does not exist'), {
        name: 'ResourceNotFoundException',
        $metadata: {},
      }),
    );
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(pageBody()).toContain('Not retried: its backup vault vault-aws-knows no longer exists.');
    expect(pageBody()).not.toContain('its resource no longer exists');
  });

  it('retries a resource of any type AWS Backup backs up, leaving the existence check to StartBackupJob', async () => {
    // Arrange
    const efs = 'arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-1';
    backup.on(DescribeBackupJobCommand).resolves({ ...AWS_JOB, ResourceType: 'EFS', ResourceArn: efs });
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(backup.commandCalls(StartBackupJobCommand)[0]?.args[0].input.ResourceArn).toBe(efs);
    expect(pageBody()).toContain('DONE backup.retry-job: started backup job retry-job-1');
  });

  it('does not retry a resource AWS Backup names in another region, and the page says why', async () => {
    // Arrange
    backup.on(DescribeBackupJobCommand).resolves({
      ...AWS_JOB,
      ResourceArn: 'arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a1b2c3d4e5f60718',
    });
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(pageBody()).toContain(
      "Not retried: its resource arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a1b2c3d4e5f60718 is not in this function's account 123456789012 and region us-east-1.",
    );
  });

  it('does not retry on the event alone when AWS cannot be asked about the job', async () => {
    // Arrange
    backup
      .on(DescribeBackupJobCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: {} }));
    // Act
    await invoke(ebsFailure());
    // Assert
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
    expect(pageBody()).toContain('could not be read back from AWS Backup (AccessDeniedException: denied)');
  });
});
