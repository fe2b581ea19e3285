import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable } from '../support/approvalTable.ts';
import { answerCalendars } from '../support/changeCalendars.ts';

// Handler layer, issue 20: with `idleStop.approval: 'required'` a live scan stops nothing; it records one
// pending action holding its whole stop list and pages once with the approval id, the list and the
// command. Dry-run, the kill switch and a closed change calendar still come first: no approval then.
const aws = await mockAwsClients();
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
let handler: typeof import('#functions/stopIdleInstances/handler.ts').handler;

const STAGE = 'idle-approval-test';
const FUNCTION = `ops-autopilot-${STAGE}-stopIdleInstances`;
const IDLE = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'];
let table: ApprovalTable;

beforeAll(async () => {
  stages[STAGE] = { dryRun: false, idleStop: { approval: 'required' } };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.AWS_LAMBDA_FUNCTION_NAME = FUNCTION;
  ({ handler } = await import('#functions/stopIdleInstances/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

beforeEach(() => {
  aws.reset();
  delete process.env.DRY_RUN;
  resetConfigForTests();
  withoutKillSwitch(ssm);
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: IDLE.map((InstanceId) => ({
          InstanceId,
          InstanceType: 'm5.large' as const,
          State: { Name: 'running' as const },
          RootDeviceType: 'ebs' as const,
          Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
        })),
      },
    ],
  });
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 1 : 10_000)));
});

const scan = () =>
  handler(
    loadFixture('stopIdleInstances/scheduled-event.json') as never,
    makeContext(FUNCTION),
  ) as Promise<PipelineResult>;
const pages = () => sns.commandCalls(PublishCommand).map((c) => String(c.args[0].input.Message));
const stopCalls = () => ec2.commandCalls(StopInstancesCommand);
const budgetKey = `ops-autopilot-${STAGE}#shared#stop-budget`;

describe('stopIdleInstances with idleStop.approval: required', () => {
  it('stops nothing on a live scan: one pending approval holds the stop list, one page gives its id and command', async () => {
    // Act
    const result = await scan();
    // Assert
    expect(stopCalls()).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    const [pending, ...more] = table.approvals();
    expect(more).toHaveLength(0);
    expect(pending).toMatchObject({ status: 'pending', owner: 'stopIdleInstances', ownerFunction: FUNCTION });
    const intent = JSON.parse(String(pending?.intent)) as {
      kind: string;
      instances: { instanceId: string; reason: string }[];
    };
    expect(intent.kind).toBe('ec2.stop-instances');
    expect(intent.instances.map((i) => i.instanceId)).toEqual(IDLE);
    // Each instance keeps its verdict's evidence, as the scan saw it.
    expect(intent.instances[0]?.reason).toMatch(/^Idle over 24 h: hourly CPU max 1 %/);
    const approvalId = String(pending?.approvalId);
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', reason: 'approval-pending' });
    expect(pages()).toHaveLength(1);
    const page = pages()[0] ?? '';
    expect(page).toContain(`waits for approval ${approvalId}`);
    for (const id of IDLE) expect(page).toContain(id);
    expect(page).toContain(
      `npx sls invoke --stage ${STAGE} --region us-east-1 -f approveAction --data '{"approvalId":"${approvalId}","decision":"approve","approvedBy":"<your-name>"}'`,
    );
    expect(page).toMatch(/needs approval to stop 2 instance\(s\)/);
    // Nothing spent from the hour's budget: it is claimed when the stops are approved.
    expect(table.items.has(budgetKey)).toBe(false);
  });

  it('lists every idle instance even when the hour is spent: the budget applies at approval time', async () => {
    // Arrange: another run stopped the hour's 10.
    const spent = Array.from({ length: 10 }, (_, k) => `i-0ccccccccccccccc${k}`);
    table.items.set(budgetKey, {
      id: budgetKey,
      type: 'stop-budget',
      version: 1,
      claims: [{ run: 'other-run', at: Date.now() - 60_000, instanceIds: spent }],
    });
    // Act
    await scan();
    // Assert
    const intent = JSON.parse(String(table.approvals()[0]?.intent)) as {
      instances: { instanceId: string }[];
    };
    expect(intent.instances.map((i) => i.instanceId)).toEqual(IDLE);
    expect(stopCalls()).toHaveLength(0);
  });

  it('on a dry-run stage creates no approval and previews the stops', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    // Act
    const result = await scan();
    // Assert
    expect(table.approvals()).toHaveLength(0);
    expect(stopCalls()).toHaveLength(0);
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', reason: 'dry-run' });
  });

  it('with the kill switch set creates no approval and previews the stops', async () => {
    // Arrange
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    resetKillSwitchForTests();
    // Act
    const result = await scan();
    // Assert
    expect(table.approvals()).toHaveLength(0);
    expect(stopCalls()).toHaveLength(0);
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', reason: 'dry-run' });
  });

  it("under the idle stopper's closed calendar creates no approval: the stops are previewed as change-freeze", async () => {
    // Arrange
    const idleStop = stages[STAGE]?.idleStop as { changeCalendars?: string[] };
    idleStop.changeCalendars = ['idle-freeze'];
    resetConfigForTests();
    answerCalendars(ssm, { 'idle-freeze': { State: 'CLOSED', NextTransitionTime: '2026-12-07T08:00:00Z' } });
    try {
      // Act
      const result = await scan();
      // Assert
      expect(table.approvals()).toHaveLength(0);
      expect(stopCalls()).toHaveLength(0);
      expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', reason: 'change-freeze' });
      expect(pages()[0]).toContain('idle-freeze');
    } finally {
      delete idleStop.changeCalendars;
      resetConfigForTests();
    }
  });
});
