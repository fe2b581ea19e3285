import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { DEFAULT_AMI, only, seedFleet } from '../../tools/local/fleet.ts';
import { deleteMode, putMode } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';
import { backupJobFailure, cloudTrailRecord, costAnomaly } from '../support/events/index.ts';

/**
 * The kill switch, end to end: an operator writes dry-run into the stage's SSM parameter (here moto's)
 * and every mutating function of a live stage stops changing anything, without a deploy; deleting the
 * parameter makes them act again.
 */

// moto has no SSM Automation: the start is mocked, the kill switch parameter is moto's.
const ssm = mockClient(SSMClient);
// moto has no AWS Backup jobs either: DescribeBackupJob and StartBackupJob are mocked.
const backup = mockClient(BackupClient);
const ec2 = new EC2Client({});
type Handler = (event: never, context: ReturnType<typeof makeContext>) => Promise<unknown>;
let onAlarm: Handler;
let stopIdleInstances: Handler;
let onCloudTrail: Handler;
let onCostAnomaly: Handler;
let onBackupFailure: Handler;

const STACK = 'ops-autopilot-kill-switch';
const STAGE = 'dev';
const FORCED = 'Forced dry-run by /ops-autopilot/dev/mode: set to dry-run';
const invoke = async (handler: Handler, event: unknown) =>
  (await handler(event as never, makeContext())) as PipelineResult;

// A live stage: only the parameter can make these runs dry.
useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: stopIdleInstances } = await import('#functions/stopIdleInstances/handler.ts'));
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
  ({ handler: onCostAnomaly } = await import('#functions/onCostAnomaly/handler.ts'));
  ({ handler: onBackupFailure } = await import('#functions/onBackupFailure/handler.ts'));
});

beforeEach(async () => {
  mockRunbookStarts(ssm, 'exec-1');
  backup.reset();
});

async function stateOf(instanceId: string): Promise<string | undefined> {
  const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return res.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

describe('the kill switch flipped in SSM, on a live stage, without a deploy', () => {
  it('onAlarm: dry-run starts no runbook and the page says the run was forced; deleted, it starts again', async () => {
    // Arrange
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: DEFAULT_AMI,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }] },
        ],
      }),
    );
    const instanceId = launched.Instances?.[0]?.InstanceId as string;
    const alarm = (name: string) =>
      makeAlarmEvent({ alarmName: name, dimensions: { InstanceId: instanceId } });
    await putMode(STAGE, 'dry-run');
    // Act
    const forced = await invoke(onAlarm, alarm('web-cpu-forced'));
    await deleteMode(STAGE);
    const live = await invoke(onAlarm, alarm('web-cpu-live'));
    // Assert
    expect(forced.forcedDryRun).toBe(FORCED);
    expect(forced.outcomes[0]).toMatchObject({
      kind: 'ssm.start-automation',
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(live.forcedDryRun).toBeUndefined();
    expect(live.outcomes[0]).toMatchObject({ kind: 'ssm.start-automation', status: 'done' });
    const starts = ssm.commandCalls(StartAutomationExecutionCommand);
    expect(starts).toHaveLength(1);
    const pages = await stack.readPages();
    const forcedPage = pages.find((p) => p.subject.includes('web-cpu-forced'));
    const livePage = pages.find((p) => p.subject.includes('web-cpu-live'));
    expect(forcedPage?.body).toContain(`${FORCED}.`);
    expect(forcedPage?.body).toContain('Stage: dev (forced dry-run)');
    expect(forcedPage?.body).toContain(
      'SKIPPED (dry-run) ssm.start-automation: would start AWS-RestartEC2Instance',
    );
    expect(livePage?.body).not.toContain('Forced dry-run');
    expect(livePage?.body).toContain('DONE ssm.start-automation');
  });

  it('stopIdleInstances: dry-run stops and tags nothing and the page says so; deleted, it stops the idle instance', async () => {
    // Arrange
    const fleet = await seedFleet([
      {
        name: 'idle',
        tags: { 'ops:auto-stop': 'true' },
        cpu: { hours: 24, value: 1 },
        network: { hours: 24, value: 20_000 },
      },
    ]);
    const idle = only(fleet, 'idle');
    await putMode(STAGE, 'dry-run');
    // Act
    const forced = await invoke(stopIdleInstances, {});
    const stateWhileForced = await stateOf(idle);
    await deleteMode(STAGE);
    const live = await invoke(stopIdleInstances, {});
    // Assert
    expect(stateWhileForced).toBe('running');
    expect(forced.forcedDryRun).toBe(FORCED);
    expect(forced.outcomes[0]).toMatchObject({
      kind: 'ec2.stop-instances',
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(live.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', status: 'done' });
    expect(await stateOf(idle)).toBe('stopped');
    const [forcedPage] = await stack.readPages();
    expect(forcedPage?.body).toContain(`${FORCED}.`);
  });

  it('onCloudTrail: dry-run revokes nothing and the page says so; deleted, it revokes the world-open rule', async () => {
    // Arrange
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `g-${crypto.randomUUID()}`, Description: 'test' }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const record = () =>
      cloudTrailRecord('security-group-open-world', {
        id: crypto.randomUUID(),
        eventID: crypto.randomUUID(),
        withRequestParameters: { groupId: GroupId },
      });
    const openRanges = async () => {
      const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId as string] }));
      return (res.SecurityGroups?.[0]?.IpPermissions ?? []).flatMap((p) =>
        (p.IpRanges ?? []).map((r) => r.CidrIp),
      );
    };
    await putMode(STAGE, 'dry-run');
    // Act
    const forced = await invoke(onCloudTrail, record());
    const whileForced = await openRanges();
    await deleteMode(STAGE);
    const live = await invoke(onCloudTrail, record());
    // Assert
    expect(whileForced).toEqual(['0.0.0.0/0']);
    expect(forced.forcedDryRun).toBe(FORCED);
    expect(forced.outcomes[0]).toMatchObject({
      kind: 'ec2.revoke-ingress',
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(live.outcomes[0]).toMatchObject({ kind: 'ec2.revoke-ingress', status: 'done' });
    expect(await openRanges()).toEqual([]);
    const [forcedPage] = await stack.readPages();
    expect(forcedPage?.body).toContain(`${FORCED}.`);
  });

  it('onCostAnomaly: dry-run stops no idle instance for a large EC2 anomaly and the page says so; deleted, it stops it', async () => {
    // Arrange: the dev stage stops opted-in idle instances from $2,000 of EC2 anomaly in this account.
    const fleet = await seedFleet([
      {
        name: 'idle',
        tags: { 'ops:auto-stop': 'true' },
        cpu: { hours: 24, value: 1 },
        network: { hours: 24, value: 20_000 },
      },
    ]);
    const idle = only(fleet, 'idle');
    // Two anomalies: the second is a new incident, so its stops are decided afresh.
    const anomaly = () =>
      costAnomaly('ec2-above-stop-threshold', { id: crypto.randomUUID(), anomalyId: crypto.randomUUID() });
    await putMode(STAGE, 'dry-run');
    // Act
    const forced = await invoke(onCostAnomaly, anomaly());
    const stateWhileForced = await stateOf(idle);
    await deleteMode(STAGE);
    const live = await invoke(onCostAnomaly, anomaly());
    // Assert
    expect(stateWhileForced).toBe('running');
    expect(forced.forcedDryRun).toBe(FORCED);
    expect(forced.outcomes.find((o) => o.kind === 'ec2.stop-instances')).toMatchObject({
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(live.outcomes.find((o) => o.kind === 'ec2.stop-instances')).toMatchObject({ status: 'done' });
    expect(await stateOf(idle)).toBe('stopped');
    const [forcedPage] = await stack.readPages();
    expect(forcedPage?.body).toContain(`${FORCED}.`);
  });

  it('onBackupFailure: dry-run starts no retry of a failed backup and the page says so; deleted, it retries', async () => {
    // Arrange: the dev stage retries failed backups; AWS Backup (mocked) knows each failed job.
    const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }));
    const resourceArn = `arn:aws:ec2:us-east-1:123456789012:volume/${VolumeId}`;
    const failedJob = (jobId: string) =>
      backupJobFailure('backup-job-failed-ebs', { id: crypto.randomUUID(), backupJobId: jobId, resourceArn });
    backup.on(DescribeBackupJobCommand).callsFake(async (input: { BackupJobId: string }) => ({
      AccountId: '123456789012',
      BackupJobId: input.BackupJobId,
      State: 'FAILED',
      StatusMessage: 'Backup job failed because the snapshot could not be completed in time',
      BackupVaultName: 'Default',
      ResourceArn: resourceArn,
      ResourceType: 'EBS',
      IamRoleArn: 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole',
      CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' },
    }));
    backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'retry-job-1' });
    await putMode(STAGE, 'dry-run');
    // Act
    const forced = await invoke(onBackupFailure, failedJob('job-forced'));
    const startsWhileForced = backup.commandCalls(StartBackupJobCommand).length;
    await deleteMode(STAGE);
    const live = await invoke(onBackupFailure, failedJob('job-live'));
    // Assert
    expect(startsWhileForced).toBe(0);
    expect(forced.forcedDryRun).toBe(FORCED);
    expect(forced.outcomes.find((o) => o.kind === 'backup.retry-job')).toMatchObject({
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(live.outcomes.find((o) => o.kind === 'backup.retry-job')).toMatchObject({ status: 'done' });
    expect(backup.commandCalls(StartBackupJobCommand).map((c) => c.args[0].input.ResourceArn)).toEqual([
      resourceArn,
    ]);
    const pages = await stack.readPages();
    expect(pages.find((p) => p.body.includes('job-forced'))?.body).toContain(`${FORCED}.`);
  });

  it('treats a value other than live or dry-run as dry-run, and live as the stage', async () => {
    // Arrange
    const fleet = await seedFleet([
      {
        name: 'idle',
        tags: { 'ops:auto-stop': 'true' },
        cpu: { hours: 24, value: 1 },
        network: { hours: 24, value: 20_000 },
      },
    ]);
    await putMode(STAGE, 'off');
    // Act
    const unknown = await invoke(stopIdleInstances, {});
    await putMode(STAGE, 'live');
    const live = await invoke(stopIdleInstances, {});
    // Assert
    expect(unknown.forcedDryRun).toBe(
      'Forced dry-run by /ops-autopilot/dev/mode: it holds "off", neither live nor dry-run',
    );
    expect(live.forcedDryRun).toBeUndefined();
    expect(await stateOf(only(fleet, 'idle'))).toBe('stopped');
  });
});
