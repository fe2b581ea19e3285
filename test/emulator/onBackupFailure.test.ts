import {
  BackupClient,
  DescribeBackupJobCommand,
  type DescribeBackupJobCommandOutput,
  StartBackupJobCommand,
} from '@aws-sdk/client-backup';
import {
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, setDryRun } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { countStateTableCalls, type StateCallCounter } from '../../tools/local/stateCalls.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';
import { anotherDeliveryOf, backupJobFailure } from '../support/events/index.ts';

// moto has no AWS Backup jobs: Backup is a client mock that answers like AWS (a repeated idempotency
// token gets the same job back, and a volume moto's EC2 does not have is refused, as AWS Backup refuses
// a deleted resource). Pages go through moto's SNS to SQS, state through moto's DynamoDB.
const backup = mockClient(BackupClient);
let handler: typeof import('#functions/onBackupFailure/handler.ts').handler;

const STACK = 'ops-autopilot-backup';
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole`;
/** The jobs AWS Backup knows, by id: what DescribeBackupJob answers. */
let jobs: Map<string, DescribeBackupJobCommandOutput>;
let calls: StateCallCounter;

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/onBackupFailure/handler.ts'));
  await sendStateTableCallsOneAtATime();
  calls = await countStateTableCalls();
});

beforeEach(async () => {
  jobs = new Map();
  backup.reset();
  backup.on(DescribeBackupJobCommand).callsFake(async (input: { BackupJobId: string }) => {
    const job = jobs.get(input.BackupJobId);
    if (!job) throw Object.assign(new Error('no such job'), { name: 'ResourceNotFoundException' });
    return job;
  });
  backup
    .on(StartBackupJobCommand)
    .callsFake(async (input: { IdempotencyToken: string; ResourceArn: string }) => {
      const volumeId = input.ResourceArn.split('/').at(-1) ?? '';
      const { Volumes } = await new EC2Client({})
        .send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))
        .catch(() => ({ Volumes: [] }));
      if (!Volumes?.length) {
        throw Object.assign(new Error(`Cannot find resource ${input.ResourceArn}`), {
          name: 'ResourceNotFoundException',
        });
      }
      return { BackupJobId: `retry-${input.IdempotencyToken}` };
    });
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
    // A job a backup plan created (only those are retried); the retries' own jobs are on-demand.
    ...(jobId.startsWith('retry-') ? {} : { CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' } }),
  });
  return event;
}

/** Another delivery of the same failure: same job, new event id. */
const again = anotherDeliveryOf;

const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const starts = () => backup.commandCalls(StartBackupJobCommand).map((c) => c.args[0].input);

describe('onBackupFailure against the emulator', () => {
  it('claims the rate guard slot with the retry, and records the retry job, in one round trip each', async () => {
    // Arrange
    const volume = await createVolume();
    const event = failedBackup('job-1', volume);
    calls.reset();
    // Act
    const result = await invoke(event);
    // Assert: retried once; the slot and the claim went in one transaction, the job and the claim's
    // note of it in another.
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual([
      'backup.retry-job done',
      'sns.page done',
    ]);
    const claim = 'ops-autopilot-test#backup-retry#job-1';
    const writes = calls.calls().filter((c) => c.operation !== 'GetItem');
    const touching = (part: string) => writes.filter((c) => c.ids.some((id) => id.includes(part)));
    const slot = touching('#rate-guard#');
    expect(slot).toHaveLength(1);
    expect(slot[0]?.ids).toContain(claim);
    const job = touching('#backup-retry-job#');
    expect(job).toHaveLength(1);
    expect(job[0]?.ids).toContain(claim);
    expect(writes.filter((c) => c.ids.includes(claim))).toHaveLength(2);
  });

  it("retries a failed backup of an existing volume once, pages the retry's job id, and records the retry", async () => {
    // Arrange
    const volume = await createVolume();
    const event = failedBackup('job-1', volume);
    // Act
    await invoke(event);
    // Assert
    expect(starts()).toHaveLength(1);
    const retryJob = `retry-${starts()[0]?.IdempotencyToken}`;
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.subject).toBe(`[HIGH] backup.job: Backup job FAILED: EBS ${volume} (vault Default)`);
    expect(pages[0]?.body).toContain(`DONE backup.retry-job: started backup job ${retryJob}`);
    expect(pages[0]?.body).toContain(
      'Backup job (AWS Backup console): https://us-east-1.console.aws.amazon.com/backup/',
    );
    const records = await stack.scanTable();
    expect(records).toContainEqual(
      expect.objectContaining({ id: expect.stringContaining('#backup-retry#job-1'), retryJobId: retryJob }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        id: expect.stringContaining(`#backup-retry-job#${retryJob}`),
        retryOf: 'job-1',
      }),
    );
  });

  it('pages a failed retry as "Retry failed" and does not retry it again', async () => {
    // Arrange
    const volume = await createVolume();
    await invoke(failedBackup('job-1', volume));
    const retryJob = `retry-${starts()[0]?.IdempotencyToken}`;
    await stack.readPages();
    // Act
    await invoke(failedBackup(retryJob, volume));
    // Assert
    expect(starts()).toHaveLength(1);
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.subject).toMatch(/^\[HIGH\] backup\.job: Retry failed: Backup job FAILED: EBS/);
    expect(pages[0]?.body).toContain(
      'the retry this function started for failed job job-1, and it failed too',
    );
  });

  it('in dry-run, pages the retry it would start, starts none and claims none', async () => {
    // Arrange
    setDryRun(true);
    const volume = await createVolume();
    // Act
    await invoke(failedBackup('job-1', volume));
    // Assert
    expect(starts()).toHaveLength(0);
    const pages = await stack.readPages();
    expect(pages[0]?.body).toContain('SKIPPED (dry-run) backup.retry-job: would start a backup of');
    expect((await stack.scanTable()).map((r) => String(r.id))).not.toContainEqual(
      expect.stringContaining('#backup-retry'),
    );
  });

  it('does not retry the backup of a deleted volume, and the page says why', async () => {
    // Arrange
    const volume = await createVolume();
    await new EC2Client({}).send(new DeleteVolumeCommand({ VolumeId: volume }));
    // Act
    const result = await invoke(failedBackup('job-1', volume));
    // Assert: AWS Backup refused the one start; nothing is recorded as a retry job of ours.
    expect(starts()).toHaveLength(1);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `Not retried: its resource no longer exists: volume ${volume} no longer exists.`,
    );
    expect(result.outcomes.some((o) => o.status === 'failed')).toBe(false);
    expect((await stack.scanTable()).map((r) => String(r.id))).not.toContainEqual(
      expect.stringContaining('#backup-retry-job#'),
    );
  });

  it('pages a failed copy job with its source and destination vaults and regions', async () => {
    // Act
    await invoke(loadFixture('onBackupFailure/copy-job-failed.json'));
    // Assert
    const [page] = await stack.readPages();
    expect(page?.subject).toBe(
      '[HIGH] backup.job: Copy job FAILED: EBS vol-0a1b2c3d4e5f60718 to dr-copies (eu-west-1)',
    );
    expect(page?.body).toContain(
      'sourceVault: Default in us-east-1 (arn:aws:backup:us-east-1:123456789012:backup-vault:Default)',
    );
    expect(page?.body).toContain('destinationVault: dr-copies in eu-west-1');
    expect(starts()).toHaveLength(0);
  });

  it('pages each failed job once and retries it at most once, however often and at once its failure is delivered', async () => {
    // Arrange: four failed jobs, delivered 1 to 5 times each, with new event ids, the later ones at once.
    const volume = await createVolume();
    const deliveries = [1, 3, 5, 2].map((times, i) => {
      const first = failedBackup(`job-${i}`, volume);
      return [first, ...Array.from({ length: times - 1 }, () => again(first))];
    });
    // Act: every job's first delivery alone, then the rest of all jobs together.
    for (const [first] of deliveries) await invoke(first);
    await Promise.allSettled(deliveries.flatMap(([, ...rest]) => rest.map((e) => invoke(e))));
    // Assert
    const pages = await stack.readPages();
    expect(pages.map((p) => p.body.match(/jobId: (\S+)/)?.[1]).sort()).toEqual([
      'job-0',
      'job-1',
      'job-2',
      'job-3',
    ]);
    const tokens = starts().map((s) => s.IdempotencyToken);
    expect(tokens).toHaveLength(4);
    expect(new Set(tokens).size).toBe(4);
  });

  it('starts one retry between concurrent first deliveries of one failure', async () => {
    // Arrange
    const volume = await createVolume();
    const first = failedBackup('job-1', volume);
    // Act
    await Promise.allSettled([
      invoke(first),
      invoke(again(first)),
      invoke(again(first)),
      invoke(again(first)),
    ]);
    // Assert
    expect(starts()).toHaveLength(1);
    expect(await stack.readPages()).toHaveLength(1);
  });
});
