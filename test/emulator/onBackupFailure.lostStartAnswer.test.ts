import {
  BackupClient,
  DescribeBackupJobCommand,
  type DescribeBackupJobCommandOutput,
  StartBackupJobCommand,
} from '@aws-sdk/client-backup';
import { CreateVolumeCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime } from '../../tools/local/emulator.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { useEmulatedStack } from '../support/emulator.ts';
import { backupJobFailure } from '../support/events/index.ts';

// Found by an adversarial review (the third).
// The retry job is known as ours only by the record written after StartBackupJob answers.
// When that answer is lost (a timeout, a dropped connection: the job was started at AWS), the delivery
// fails and Lambda retries it a minute or more later; the delivery may also run out of retries. A retry
// job that fails in the meantime (or at all, if it was never recorded) is not known as a retry: its
// failure is retried in turn, a retry of a retry. AWS's answer says it: a retry job is an on-demand
// job (no backup plan created it).
//
// moto has no AWS Backup jobs: Backup is a client mock that answers like AWS (a repeated idempotency
// token gets the same job back). Pages go through moto's SNS to SQS, state through moto's DynamoDB;
// the volumes are moto's EC2 volumes.
const backup = mockClient(BackupClient);
let handler: typeof import('#functions/onBackupFailure/handler.ts').handler;

const STACK = 'ops-autopilot-backup';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole`;
/** The jobs AWS Backup knows, by id: what DescribeBackupJob answers. */
let jobs: Map<string, DescribeBackupJobCommandOutput>;

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/onBackupFailure/handler.ts'));
  await sendStateTableCallsOneAtATime();
});

beforeEach(async () => {
  jobs = new Map();
  backup.reset();
  backup.on(DescribeBackupJobCommand).callsFake(async (input: { BackupJobId: string }) => {
    const job = jobs.get(input.BackupJobId);
    if (!job) throw Object.assign(new Error('no such job'), { name: 'ResourceNotFoundException' });
    return job;
  });
  backup.on(StartBackupJobCommand).callsFake(async (input: { IdempotencyToken: string }) => ({
    BackupJobId: `retry-${input.IdempotencyToken}`,
  }));
});

async function createVolume(): Promise<string> {
  const res = await new EC2Client({}).send(
    new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }),
  );
  return res.VolumeId as string;
}

/** A FAILED backup job of `volumeId`, known to AWS Backup, as one delivery (a new event id). */
function failedBackup(jobId: string, volumeId: string) {
  const resourceArn = `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/${volumeId}`;
  const event = backupJobFailure('backup-job-failed-ebs', {
    id: crypto.randomUUID(),
    backupJobId: jobId,
    resourceArn,
  });
  jobs.set(jobId, {
    $metadata: {},
    AccountId: ACCOUNT,
    BackupJobId: jobId,
    State: 'FAILED',
    StatusMessage: event.detail.statusMessage,
    BackupVaultName: 'Default',
    ResourceArn: resourceArn,
    ResourceType: 'EBS',
    IamRoleArn: ROLE,
  });
  return event;
}

const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const starts = () => backup.commandCalls(StartBackupJobCommand).map((c) => c.args[0].input);

describe('a retry whose StartBackupJob answer was lost', () => {
  it('does not retry the retry job when it fails before the lost answer is recovered', async () => {
    // Arrange: AWS starts the retry job, but the answer is lost (no HTTP status: a timeout).
    const volume = await createVolume();
    const original = failedBackup('job-1', volume);
    jobs.set('job-1', {
      ...(jobs.get('job-1') as DescribeBackupJobCommandOutput),
      CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' },
    });
    backup.on(StartBackupJobCommand).callsFake(async (input: { IdempotencyToken: string }) => {
      const retryJob = `retry-${input.IdempotencyToken}`;
      // The on-demand job AWS started: no CreatedBy backup plan.
      jobs.set(retryJob, {
        ...(jobs.get('job-1') as DescribeBackupJobCommandOutput),
        BackupJobId: retryJob,
        CreatedBy: undefined,
      });
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
    });
    await invoke(original).catch(() => undefined);
    expect(starts()).toHaveLength(1);
    const retryJob = `retry-${starts()[0]?.IdempotencyToken}`;
    backup.on(StartBackupJobCommand).callsFake(async (input: { IdempotencyToken: string }) => ({
      BackupJobId: `retry-${input.IdempotencyToken}`,
    }));
    // Act: the retry job fails (quickly: the same internal error), before Lambda's retry of the original.
    const retryFailure = failedBackup(retryJob, volume);
    jobs.set(retryJob, { ...(jobs.get(retryJob) as DescribeBackupJobCommandOutput), CreatedBy: undefined });
    await invoke(retryFailure);
    // Assert: no StartBackupJob for the retry job's failure.
    expect(starts()).toHaveLength(1);
  });
});
