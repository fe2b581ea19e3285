import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { setDryRun } from '../../tools/local/emulator.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { only, seedFleet } from '../../tools/local/fleet.ts';
import { deleteMode, putMode } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import {
  answerCalendars,
  type CalendarAnswer,
  calendarsAsked,
  editStage,
} from '../support/changeCalendars.ts';
import { launchInstances, mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';
import {
  automationExecutionStatusChange,
  backupJobFailure,
  cloudTrailRecord,
  costAnomaly,
} from '../support/events/index.ts';

/**
 * The change freeze, end to end: a live stage whose SSM Change Calendar is CLOSED changes nothing in
 * any function (the runbook start, the idle stop, the remediation, the anomaly's stop, the backup
 * retry), pages that and when the calendar opens, and acts once it is OPEN. moto has no Change
 * Calendar: GetCalendarState is answered by the mocked SSM client; everything else is moto's.
 */

// moto has no SSM Automation nor Change Calendar: both are mocked, the kill switch parameter is moto's.
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
let onRunbookResult: Handler;

const STACK = 'ops-autopilot-change-freeze';
const OPENS = '2026-12-27T08:00:00.000Z';
const CLOSED: CalendarAnswer = { State: 'CLOSED', NextTransitionTime: OPENS };
const OPEN: CalendarAnswer = { State: 'OPEN', NextTransitionTime: '2026-12-24T18:00:00Z' };
const invoke = async (handler: Handler, event: unknown) =>
  (await handler(event as never, makeContext())) as PipelineResult;

// A live stage: only a calendar (or the kill switch) can hold these actions back.
useEmulatedStack(STACK, { dryRun: false });

/**
 * Every call the functions send through a real SDK client (moto's EC2, S3, CloudTrail, ...), by client
 * and command: the mocked SSM and Backup clients are counted by their mocks.
 */
let sent: MockInstance;
const ReadOnly = /^(Describe|Get|List|Lookup|Head|Query|Scan|BatchGet)/;
const NotResources = new Set(['DynamoDBClient', 'DynamoDBDocumentClient', 'SNSClient']);
/** The calls that would change a resource: not a read, not the state table's records, not a page. */
function mutatingCalls(): string[] {
  return sent.mock.calls.flatMap(([command], i) => {
    const client = (sent.mock.contexts[i] as object).constructor.name;
    const name = (command as object).constructor.name;
    return NotResources.has(client) || ReadOnly.test(name) ? [] : [`${client}.${name}`];
  });
}

let restoreStage = () => {};
/** The dev stage, live, with its calendars: the stage's `release-freeze` and what `edit` adds. */
function withCalendars(edit: (stage: StageConfigInput) => StageConfigInput = (s) => s) {
  restoreStage = editStage('dev', (s) => edit({ ...s, changeCalendars: ['release-freeze'] }));
}

beforeAll(async () => {
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: stopIdleInstances } = await import('#functions/stopIdleInstances/handler.ts'));
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
  ({ handler: onCostAnomaly } = await import('#functions/onCostAnomaly/handler.ts'));
  ({ handler: onBackupFailure } = await import('#functions/onBackupFailure/handler.ts'));
  ({ handler: onRunbookResult } = await import('#functions/onRunbookResult/handler.ts'));
});

beforeEach(async () => {
  mockRunbookStarts(ssm, '333ba70b-2333-48db-b17e-a5e69c6f4d1c');
  backup.reset();
  const clientPrototype = Object.getPrototypeOf(EC2Client.prototype) as { send: () => Promise<unknown> };
  sent = vi.spyOn(clientPrototype, 'send');
});

afterEach(() => {
  sent.mockRestore();
  restoreStage();
  restoreStage = () => {};
});

async function stateOf(instanceId: string): Promise<string | undefined> {
  const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return res.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

const freezeLine = (kind: string, calendar: string) =>
  new RegExp(
    `SKIPPED \\(change-freeze\\) ${kind.replace('.', '\\.')}: would .*\\(change freeze: calendar ${calendar} is CLOSED; it opens at ${OPENS}\\)`,
  );

async function idleFleet(): Promise<string> {
  const fleet = await seedFleet([
    {
      name: 'idle',
      tags: { 'ops:auto-stop': 'true' },
      cpu: { hours: 24, value: 1 },
      network: { hours: 24, value: 20_000 },
    },
  ]);
  return only(fleet, 'idle');
}

async function worldOpenGroup(): Promise<{
  groupId: string;
  openRanges: () => Promise<(string | undefined)[]>;
}> {
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `g-${crypto.randomUUID()}`, Description: 'test' }),
  );
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    }),
  );
  const openRanges = async () => {
    const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId as string] }));
    return (res.SecurityGroups?.[0]?.IpPermissions ?? []).flatMap((p) =>
      (p.IpRanges ?? []).map((r) => r.CidrIp),
    );
  };
  return { groupId: GroupId as string, openRanges };
}

const worldOpenRecord = (groupId: string) =>
  cloudTrailRecord('security-group-open-world', {
    id: crypto.randomUUID(),
    eventID: crypto.randomUUID(),
    withRequestParameters: { groupId },
  });

describe('a CLOSED change calendar on a live stage: nothing changes, the page says until when; OPEN acts', () => {
  it("onAlarm: its rule's CLOSED calendar starts no runbook and the page says so; OPEN, it starts", async () => {
    // Arrange: web-cpu names its own calendar, besides the stage's (OPEN).
    withCalendars((s) => ({
      ...s,
      alarmRules: (s.alarmRules ?? []).map((r) =>
        r.name === 'web-cpu' ? { ...r, changeCalendars: ['web-freeze'] } : r,
      ),
    }));
    answerCalendars(ssm, { 'release-freeze': OPEN, 'web-freeze': CLOSED });
    const [instanceId] = await launchInstances(1, { 'ops:auto-remediate': 'true' });
    const alarm = (name: string) =>
      makeAlarmEvent({ alarmName: name, dimensions: { InstanceId: instanceId as string } });
    // Act
    sent.mockClear();
    const frozen = await invoke(onAlarm, alarm('web-cpu-frozen'));
    const startsWhileFrozen = ssm.commandCalls(StartAutomationExecutionCommand).length;
    answerCalendars(ssm, { 'release-freeze': OPEN, 'web-freeze': OPEN });
    const live = await invoke(onAlarm, alarm('web-cpu-open'));
    // Assert
    expect(startsWhileFrozen).toBe(0);
    expect(frozen.outcomes[0]).toMatchObject({
      kind: 'ssm.start-automation',
      status: 'skipped',
      reason: 'change-freeze',
    });
    expect(live.outcomes[0]).toMatchObject({ kind: 'ssm.start-automation', status: 'done' });
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(1);
    const pages = await stack.readPages();
    expect(pages.find((p) => p.subject.includes('web-cpu-frozen'))?.body).toMatch(
      freezeLine('ssm.start-automation', 'web-freeze'),
    );
    expect(pages.find((p) => p.subject.includes('web-cpu-open'))?.body).toContain(
      'DONE ssm.start-automation',
    );
  });

  it("stopIdleInstances: idleStop's CLOSED calendar stops and tags nothing and the page says so; OPEN, it stops", async () => {
    // Arrange
    withCalendars((s) => ({ ...s, idleStop: { ...s.idleStop, changeCalendars: ['idle-freeze'] } }));
    answerCalendars(ssm, { 'release-freeze': OPEN, 'idle-freeze': CLOSED });
    const idle = await idleFleet();
    // Act
    sent.mockClear();
    const frozen = await invoke(stopIdleInstances, {});
    const mutatedWhileFrozen = mutatingCalls();
    const stateWhileFrozen = await stateOf(idle);
    const [frozenPage] = await stack.readPages();
    answerCalendars(ssm, { 'release-freeze': OPEN, 'idle-freeze': OPEN });
    const live = await invoke(stopIdleInstances, {});
    // Assert
    expect(mutatedWhileFrozen).toEqual([]);
    expect(stateWhileFrozen).toBe('running');
    expect(frozen.outcomes[0]).toMatchObject({
      kind: 'ec2.stop-instances',
      status: 'skipped',
      reason: 'change-freeze',
    });
    expect(frozenPage?.body).toMatch(freezeLine('ec2.stop-instances', 'idle-freeze'));
    expect(live.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', status: 'done' });
    expect(await stateOf(idle)).toBe('stopped');
    // The count sees a stop when there is one: the frozen run's empty list is not the spy's blindness.
    expect(mutatingCalls()).toContain('EC2Client.StopInstancesCommand');
  });

  it("onCloudTrail: the detection's CLOSED calendar revokes nothing and the page says so; OPEN, it revokes", async () => {
    // Arrange
    withCalendars((s) => ({
      ...s,
      cloudTrail: {
        ...s.cloudTrail,
        detections: {
          ...s.cloudTrail?.detections,
          'security-group-open-to-world': { remediate: true, changeCalendars: ['network-freeze'] },
        },
      },
    }));
    answerCalendars(ssm, { 'release-freeze': OPEN, 'network-freeze': CLOSED });
    const { groupId, openRanges } = await worldOpenGroup();
    // Act
    sent.mockClear();
    const frozen = await invoke(onCloudTrail, worldOpenRecord(groupId));
    const mutatedWhileFrozen = mutatingCalls();
    const whileFrozen = await openRanges();
    const [frozenPage] = await stack.readPages();
    answerCalendars(ssm, { 'release-freeze': OPEN, 'network-freeze': OPEN });
    const live = await invoke(onCloudTrail, worldOpenRecord(groupId));
    // Assert
    expect(mutatedWhileFrozen).toEqual([]);
    expect(whileFrozen).toEqual(['0.0.0.0/0']);
    expect(frozen.outcomes[0]).toMatchObject({
      kind: 'ec2.revoke-ingress',
      status: 'skipped',
      reason: 'change-freeze',
    });
    expect(frozenPage?.body).toMatch(freezeLine('ec2.revoke-ingress', 'network-freeze'));
    expect(live.outcomes[0]).toMatchObject({ kind: 'ec2.revoke-ingress', status: 'done' });
    expect(await openRanges()).toEqual([]);
    expect(mutatingCalls()).toContain('EC2Client.RevokeSecurityGroupIngressCommand');
  });

  it("onCostAnomaly: the anomaly stop's CLOSED calendar stops nothing and the page says so; OPEN, it stops", async () => {
    // Arrange: the dev stage stops opted-in idle instances from $2,000 of EC2 anomaly in this account.
    withCalendars((s) => ({
      ...s,
      costAnomaly: {
        ...s.costAnomaly,
        stopIdle: { ...s.costAnomaly?.stopIdle, changeCalendars: ['cost-freeze'] },
      },
    }));
    answerCalendars(ssm, { 'release-freeze': OPEN, 'cost-freeze': CLOSED });
    const idle = await idleFleet();
    const anomaly = () =>
      costAnomaly('ec2-above-stop-threshold', { id: crypto.randomUUID(), anomalyId: crypto.randomUUID() });
    // Act
    sent.mockClear();
    const frozen = await invoke(onCostAnomaly, anomaly());
    const mutatedWhileFrozen = mutatingCalls();
    const stateWhileFrozen = await stateOf(idle);
    const [frozenPage] = await stack.readPages();
    answerCalendars(ssm, { 'release-freeze': OPEN, 'cost-freeze': OPEN });
    const live = await invoke(onCostAnomaly, anomaly());
    // Assert
    expect(mutatedWhileFrozen).toEqual([]);
    expect(stateWhileFrozen).toBe('running');
    expect(frozen.outcomes.find((o) => o.kind === 'ec2.stop-instances')).toMatchObject({
      status: 'skipped',
      reason: 'change-freeze',
    });
    expect(frozenPage?.body).toMatch(freezeLine('ec2.stop-instances', 'cost-freeze'));
    expect(live.outcomes.find((o) => o.kind === 'ec2.stop-instances')).toMatchObject({ status: 'done' });
    expect(await stateOf(idle)).toBe('stopped');
  });

  it("onBackupFailure: backupFailure's CLOSED calendar starts no retry and the page says so; OPEN, it retries", async () => {
    // Arrange: the dev stage retries failed backups; AWS Backup (mocked) knows each failed job.
    withCalendars((s) => ({
      ...s,
      backupFailure: { ...s.backupFailure, changeCalendars: ['backup-freeze'] },
    }));
    answerCalendars(ssm, { 'release-freeze': OPEN, 'backup-freeze': CLOSED });
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
    // Act
    sent.mockClear();
    const frozen = await invoke(onBackupFailure, failedJob('job-frozen'));
    const startsWhileFrozen = backup.commandCalls(StartBackupJobCommand).length;
    answerCalendars(ssm, { 'release-freeze': OPEN, 'backup-freeze': OPEN });
    const live = await invoke(onBackupFailure, failedJob('job-open'));
    // Assert
    expect(startsWhileFrozen).toBe(0);
    expect(frozen.outcomes.find((o) => o.kind === 'backup.retry-job')).toMatchObject({
      status: 'skipped',
      reason: 'change-freeze',
    });
    expect(live.outcomes.find((o) => o.kind === 'backup.retry-job')).toMatchObject({ status: 'done' });
    expect(backup.commandCalls(StartBackupJobCommand)).toHaveLength(1);
    const pages = await stack.readPages();
    expect(pages.find((p) => p.body.includes('job-frozen'))?.body).toMatch(
      freezeLine('backup.retry-job', 'backup-freeze'),
    );
  });

  it('onRunbookResult: mutates nothing, so a CLOSED calendar holds nothing back and asks nothing: its escalation pages', async () => {
    // Arrange: onAlarm started the runbook while the calendar was OPEN; it has closed since.
    withCalendars();
    answerCalendars(ssm, { 'release-freeze': OPEN });
    const [instanceId] = await launchInstances(1, { 'ops:auto-remediate': 'true' });
    await invoke(
      onAlarm,
      makeAlarmEvent({ alarmName: 'web-cpu-high', dimensions: { InstanceId: instanceId as string } }),
    );
    await stack.readPages();
    answerCalendars(ssm, { 'release-freeze': CLOSED });
    ssm.resetHistory();
    const failed = automationExecutionStatusChange('execution-success', {
      id: crypto.randomUUID(),
      region: 'us-east-1',
      resources: [
        'arn:aws:ssm:us-east-1:123456789012:automation-execution/333ba70b-2333-48db-b17e-a5e69c6f4d1c',
        'arn:aws:ssm:us-east-1:123456789012:automation-definition/AWS-RestartEC2Instance:1',
      ],
      executionId: '333ba70b-2333-48db-b17e-a5e69c6f4d1c',
      status: 'Failed',
    });
    // Act
    sent.mockClear();
    const result = await invoke(onRunbookResult, failed);
    // Assert
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual(['sns.page done']);
    expect(calendarsAsked(ssm)).toEqual([]);
    expect(mutatingCalls()).toEqual([]);
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual(['escalation']);
  });
});

describe('a change calendar that cannot be read', () => {
  it('stopIdleInstances: counts as closed, stops nothing, and the page says the calendar could not be read', async () => {
    // Arrange: the role may not read it (a calendar added to the stage without a deploy).
    withCalendars();
    answerCalendars(ssm, {
      'release-freeze': Object.assign(new Error('User is not authorized to perform: ssm:GetCalendarState'), {
        name: 'AccessDeniedException',
      }),
    });
    const idle = await idleFleet();
    // Act
    sent.mockClear();
    const result = await invoke(stopIdleInstances, {});
    // Assert
    expect(mutatingCalls()).toEqual([]);
    expect(await stateOf(idle)).toBe('running');
    expect(result.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'change-freeze' });
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      'change freeze: calendar release-freeze could not be read (AccessDeniedException: User is not authorized to perform: ssm:GetCalendarState), and an unreadable calendar counts as closed',
    );
  });
});

describe('a security remediation that ignores the change freeze (ignoreChangeFreeze)', () => {
  const ignoring = (s: StageConfigInput): StageConfigInput => ({
    ...s,
    cloudTrail: {
      ...s.cloudTrail,
      detections: {
        ...s.cloudTrail?.detections,
        'security-group-open-to-world': { remediate: true, ignoreChangeFreeze: true },
      },
    },
  });

  it('onCloudTrail: revokes under a CLOSED calendar, without asking it', async () => {
    // Arrange
    withCalendars(ignoring);
    answerCalendars(ssm, { 'release-freeze': CLOSED });
    const { groupId, openRanges } = await worldOpenGroup();
    // Act
    sent.mockClear();
    const result = await invoke(onCloudTrail, worldOpenRecord(groupId));
    // Assert
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.revoke-ingress', status: 'done' });
    expect(await openRanges()).toEqual([]);
    expect(calendarsAsked(ssm)).toEqual([]);
  });

  it('onCloudTrail: still revokes nothing when the kill switch forces dry-run, nor on a dry-run stage', async () => {
    // Arrange
    withCalendars(ignoring);
    answerCalendars(ssm, { 'release-freeze': CLOSED });
    const { groupId, openRanges } = await worldOpenGroup();
    await putMode('dev', 'dry-run');
    // Act
    sent.mockClear();
    const forced = await invoke(onCloudTrail, worldOpenRecord(groupId));
    await deleteMode('dev');
    setDryRun(true);
    const dry = await invoke(onCloudTrail, worldOpenRecord(groupId));
    // Assert
    expect(mutatingCalls()).toEqual([]);
    expect(await openRanges()).toEqual(['0.0.0.0/0']);
    expect([forced, dry].map((r) => r.outcomes[0]?.reason)).toEqual(['dry-run', 'dry-run']);
    expect(forced.forcedDryRun).toBe('Forced dry-run by /ops-autopilot/dev/mode: set to dry-run');
  });
});
