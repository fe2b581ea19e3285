import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable } from '../support/approvalTable.ts';
import { answerCalendars } from '../support/changeCalendars.ts';
import { latch } from '../support/latch.ts';

// Handler layer, issue 20: approveAction runs an idle scan's approved stop list through the idle
// stopper's own executor, once, after checking each instance again now (running, opted in, not managed),
// the kill switch, the change freeze, the rate guard and the hourly budget.
const aws = await mockAwsClients();
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
let scanHandler: typeof import('#functions/stopIdleInstances/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;

const STAGE = 'approve-idle-test';
const SCAN = `ops-autopilot-${STAGE}-stopIdleInstances`;
const APPROVE_ACTION = `ops-autopilot-${STAGE}-approveAction`;
const BUDGET = `ops-autopilot-${STAGE}#shared#stop-budget`;
const IDS = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'];
let table: ApprovalTable;
/** The fleet as EC2 answers now, by instance id. */
let fleet: Map<string, Instance>;

const running = (
  InstanceId: string,
  tags: Record<string, string> = { 'ops:auto-stop': 'true' },
): Instance => ({
  InstanceId,
  InstanceType: 'm5.large',
  State: { Name: 'running' },
  RootDeviceType: 'ebs',
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});

beforeAll(async () => {
  stages[STAGE] = { dryRun: false, idleStop: { approval: 'required' } };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler: scanHandler } = await import('#functions/stopIdleInstances/handler.ts'));
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
  delete process.env.DRY_RUN;
  withoutKillSwitch(ssm);
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  fleet = new Map(IDS.map((id) => [id, running(id)]));
  // The scan asks for running instances; the re-check for the listed ids, whatever their state.
  ec2
    .on(DescribeInstancesCommand)
    .callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
      const [filter] = input.Filters ?? [];
      const instances = [...fleet.values()].filter((i) =>
        filter?.Name === 'instance-id'
          ? filter.Values?.includes(i.InstanceId ?? '')
          : i.State?.Name === 'running',
      );
      return { Reservations: [{ Instances: instances }] };
    });
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 1 : 10_000)));
});

/** A live scan that asks for approval of its stop list: the approval id. */
async function pendingStops(): Promise<string> {
  asFunction(SCAN);
  await scanHandler(loadFixture('stopIdleInstances/scheduled-event.json') as never, makeContext(SCAN));
  const approvalId = table.approvals()[0]?.approvalId;
  if (typeof approvalId !== 'string') throw new Error('no approval recorded');
  asFunction(APPROVE_ACTION);
  ec2.resetHistory();
  sns.resetHistory();
  return approvalId;
}

type Answer = { refused?: string; message?: string; decided?: string; notes?: { detail: string }[] };
const decide = (data: Record<string, unknown>) =>
  approveAction(data as never, makeContext(APPROVE_ACTION)) as Promise<Answer>;
const approve = (approvalId: string, extra: Record<string, unknown> = {}) =>
  decide({ approvalId, decision: 'approve', approvedBy: 'Ana Ops', ...extra });
const stopped = () => ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds);
const pages = () => sns.commandCalls(PublishCommand).map((c) => String(c.args[0].input.Message));

describe('approveAction: an approved idle stop list', () => {
  it('stops the listed idle instances once, tags them, claims the budget and pages who approved', async () => {
    // Arrange
    const approvalId = await pendingStops();
    // Act
    const answer = await approve(approvalId, { reason: 'quiet week' });
    // Assert
    expect(stopped()).toEqual(IDS);
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Resources).toEqual(IDS);
    expect(answer.decided).toContain(
      `approved ${approvalId} by Ana Ops: quiet week: stopped 2 of 2 instance(s)`,
    );
    expect(table.approval(approvalId)).toMatchObject({ status: 'approved', decidedBy: 'Ana Ops' });
    expect(table.items.get(BUDGET)?.claims).toEqual([expect.objectContaining({ instanceIds: IDS })]);
    expect(pages()).toHaveLength(1);
    expect(pages()[0]).toContain(`Ana Ops approved ${approvalId}: quiet week`);
    expect(pages()[0]).toContain(`DONE ec2.stop-instances: approved ${approvalId} by Ana Ops`);
  });

  it('stops them once when approved twice at the same time: the second is refused as decided', async () => {
    // Arrange: both invocations read the pending record before either decides.
    const approvalId = await pendingStops();
    const gate = latch();
    table.holdReads(gate, (reads) => {
      if (reads === 2) gate.open();
    });
    // Act
    const answers = await Promise.all([approve(approvalId), approve(approvalId, { approvedBy: 'Bo Ops' })]);
    // Assert
    expect(stopped()).toEqual(IDS);
    expect(answers.filter((a) => a.decided)).toHaveLength(1);
    expect(answers.filter((a) => a.refused === 'decided')).toHaveLength(1);
  });

  it('on a dry run says what it would stop, and neither stops nor decides', async () => {
    // Arrange
    const approvalId = await pendingStops();
    // Act
    const answer = await approve(approvalId, { dryRun: true });
    // Assert
    expect(answer.decided).toContain(
      `would approve ${approvalId} for Ana Ops and then: would stop 2 instance(s)`,
    );
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });

  it('skips the instances that no longer qualify now, stops the rest, and says why in the answer and the page', async () => {
    // Arrange: four more idle instances listed; by approval time each of them changed.
    const more = ['i-0aaaaaaaaaaaaaaa3', 'i-0aaaaaaaaaaaaaaa4', 'i-0aaaaaaaaaaaaaaa5', 'i-0aaaaaaaaaaaaaaa6'];
    for (const id of more) fleet.set(id, running(id));
    stages[STAGE] = { dryRun: false, idleStop: { approval: 'required', maxStopsPerHour: 10 } };
    const approvalId = await pendingStops();
    fleet.set('i-0aaaaaaaaaaaaaaa2', { ...running('i-0aaaaaaaaaaaaaaa2'), State: { Name: 'stopped' } });
    fleet.set('i-0aaaaaaaaaaaaaaa3', running('i-0aaaaaaaaaaaaaaa3', { 'ops:auto-stop': 'false' }));
    fleet.set(
      'i-0aaaaaaaaaaaaaaa4',
      running('i-0aaaaaaaaaaaaaaa4', { 'ops:auto-stop': 'true', 'aws:autoscaling:groupName': 'web' }),
    );
    fleet.delete('i-0aaaaaaaaaaaaaaa5');
    fleet.set('i-0aaaaaaaaaaaaaaa6', running('i-0aaaaaaaaaaaaaaa6', {}));
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(stopped()).toEqual(['i-0aaaaaaaaaaaaaaa1']);
    const why = (answer.notes ?? []).map((n) => n.detail).join('\n');
    const page = pages()[0] ?? '';
    for (const text of [why, page]) {
      expect(text).toContain('i-0aaaaaaaaaaaaaaa2: Not running (state stopped)');
      expect(text).toContain('i-0aaaaaaaaaaaaaaa3: Tagged ops:auto-stop=false');
      expect(text).toContain('i-0aaaaaaaaaaaaaaa4: Managed by');
      expect(text).toContain('i-0aaaaaaaaaaaaaaa5: No longer exists');
      expect(text).toContain(
        'i-0aaaaaaaaaaaaaaa6: Scope is opt-in and the instance is not tagged ops:auto-stop=true',
      );
    }
    stages[STAGE] = { dryRun: false, idleStop: { approval: 'required' } };
  });

  it('refuses when no listed instance qualifies any more, and leaves the approval pending', async () => {
    // Arrange
    const approvalId = await pendingStops();
    fleet.clear();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'out-of-scope', message: expect.stringContaining('No longer exists') });
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });

  it('refuses a list it cannot read again, saying why, and leaves the approval pending', async () => {
    // Arrange
    const approvalId = await pendingStops();
    ec2
      .on(DescribeInstancesCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({
      refused: 'out-of-scope',
      message: expect.stringContaining('could not be read again (UnauthorizedOperation: denied)'),
    });
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });

  it("refuses a list whose target is another account than its record's, without reading it", async () => {
    // Arrange: the recorded stops are moved to another account (someone who can write the table).
    const approvalId = await pendingStops();
    const record = table.approval(approvalId) as { intent: string };
    record.intent = JSON.stringify({
      ...JSON.parse(record.intent),
      target: { account: '210987654321', region: 'eu-west-1' },
    });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({
      refused: 'out-of-scope',
      message: expect.stringContaining("the stop list's target is account 210987654321 region eu-west-1"),
    });
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });

  it('stops only as many as the hourly budget allows at approval time, and reports the rest not stopped', async () => {
    // Arrange: after the scan, another run spends 9 of the hour's 10.
    const approvalId = await pendingStops();
    const spent = Array.from({ length: 9 }, (_, k) => `i-0ccccccccccccccc${k}`);
    table.items.set(BUDGET, {
      id: BUDGET,
      type: 'stop-budget',
      version: 1,
      claims: [{ run: 'other-run', at: Date.now() - 60_000, instanceIds: spent }],
    });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(stopped()).toEqual([IDS[0]]);
    expect(answer.decided).toContain(
      `the limit of 10 stops per rolling hour was reached, so ${IDS[1]} stay running`,
    );
  });
});

describe('approveAction: an idle stop list that is refused does nothing and says why', () => {
  it('records a rejection and stops nothing; the id is then refused as decided', async () => {
    // Arrange
    const approvalId = await pendingStops();
    // Act
    const answer = await decide({
      approvalId,
      decision: 'reject',
      approvedBy: 'Ana Ops',
      reason: 'busy week',
    });
    const reused = await approve(approvalId);
    // Assert
    expect(answer.decided).toContain(`rejected ${approvalId} by Ana Ops: busy week`);
    expect(reused).toEqual({
      refused: 'decided',
      message: expect.stringContaining('already rejected by Ana Ops'),
    });
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });

  it('refuses while the rate guard is full, and puts the approval back to pending', async () => {
    // Arrange
    const approvalId = await pendingStops();
    // Every rate-guard slot is refused, as a full window does (its claim carries the limit, :max).
    table.refuseUpdates((_id, values) => values[':max'] !== undefined);
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toMatchObject({ refused: 'rate-limited' });
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });

  it('starts no stop too close to the deadline, and leaves the approval pending for another try', async () => {
    // Arrange: 5 s left, the stop executor needs 30 s to finish and be recorded.
    const approvalId = await pendingStops();
    const context = { ...makeContext(APPROVE_ACTION), getRemainingTimeInMillis: () => 5_000 };
    // Act
    const error = await approveAction(
      { approvalId, decision: 'approve', approvedBy: 'Ana Ops' } as never,
      context,
    ).catch((e: unknown) => e as Error);
    // Assert
    expect(String(error)).toContain('not started: would stop 2 instance(s)');
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });

  it('refuses an expired id', async () => {
    // Arrange
    const approvalId = await pendingStops();
    (table.approval(approvalId) as { expiresAt: number }).expiresAt = Math.floor(Date.now() / 1000) - 1;
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'expired', message: expect.stringContaining('expired at') });
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });

  it('refuses after the kill switch was set, and leaves the approval pending', async () => {
    // Arrange
    const approvalId = await pendingStops();
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    resetKillSwitchForTests();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'kill-switch', message: expect.stringContaining('stays pending') });
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });

  it("refuses while the idle stopper's calendar is closed, and stops once it opens", async () => {
    // Arrange: recorded while the calendar was open.
    stages[STAGE] = { dryRun: false, idleStop: { approval: 'required', changeCalendars: ['idle-freeze'] } };
    answerCalendars(ssm, { 'idle-freeze': { State: 'OPEN' } });
    const approvalId = await pendingStops();
    answerCalendars(ssm, { 'idle-freeze': { State: 'CLOSED', NextTransitionTime: '2026-12-07T08:00:00Z' } });
    // Act
    const frozen = await approve(approvalId);
    answerCalendars(ssm, { 'idle-freeze': { State: 'OPEN' } });
    const opened = await approve(approvalId);
    // Assert
    expect(frozen).toEqual({ refused: 'change-freeze', message: expect.stringContaining('idle-freeze') });
    expect(opened.decided).toContain('stopped 2 of 2');
    expect(stopped()).toEqual(IDS);
    stages[STAGE] = { dryRun: false, idleStop: { approval: 'required' } };
  });
});
