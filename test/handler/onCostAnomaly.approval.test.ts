import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable } from '../support/approvalTable.ts';

// Handler layer, issue 20: `idleStop.approval` governs onCostAnomaly's stops too. An anomaly's page asks
// for one approval covering its stop list and stops nothing; approveAction then stops them once.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const budgets = aws.of(BudgetsClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const ssm = aws.of(SSMClient);
let onCostAnomaly: typeof import('#functions/onCostAnomaly/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;

const STAGE = 'anomaly-approval-test';
const ON_COST_ANOMALY = `ops-autopilot-${STAGE}-onCostAnomaly`;
const APPROVE_ACTION = `ops-autopilot-${STAGE}-approveAction`;
const IDLE = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'];
let table: ApprovalTable;

beforeAll(async () => {
  stages[STAGE] = {
    dryRun: false,
    costAnomaly: { stopIdle: { enabled: true, minImpactDollars: 2000 } },
    idleStop: { approval: 'required' },
  };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler: onCostAnomaly } = await import('#functions/onCostAnomaly/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

function asFunction(name: string, dryRun = false): void {
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.DRY_RUN = String(dryRun);
  resetConfigForTests();
}

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
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

const anomaly = (dryRun = false) => {
  asFunction(ON_COST_ANOMALY, dryRun);
  return onCostAnomaly(
    loadFixture('onCostAnomaly/ec2-above-stop-threshold.json') as never,
    makeContext(ON_COST_ANOMALY),
  ) as Promise<PipelineResult>;
};
const approve = (approvalId: string, extra: Record<string, unknown> = {}) => {
  asFunction(APPROVE_ACTION);
  return approveAction(
    { approvalId, decision: 'approve', approvedBy: 'Ana Ops', ...extra } as never,
    makeContext(APPROVE_ACTION),
  ) as Promise<{ refused?: string; decided?: string }>;
};
const stopped = () => ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds);
const pages = () => sns.commandCalls(PublishCommand).map((c) => String(c.args[0].input.Message));

describe("onCostAnomaly's stops with idleStop.approval: required", () => {
  it('pages the anomaly once with one approval id for its stop list, and stops nothing', async () => {
    // Act
    const result = await anomaly();
    // Assert
    expect(stopped()).toHaveLength(0);
    expect(table.approvals()).toHaveLength(1);
    const [pending] = table.approvals();
    expect(pending).toMatchObject({
      status: 'pending',
      owner: 'onCostAnomaly',
      ownerFunction: ON_COST_ANOMALY,
    });
    const intent = JSON.parse(String(pending?.intent)) as { instances: { instanceId: string }[] };
    expect(intent.instances.map((i) => i.instanceId)).toEqual(IDLE);
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', reason: 'approval-pending' });
    expect(pages()).toHaveLength(1);
    expect(pages()[0]).toContain(`waits for approval ${String(pending?.approvalId)}`);
    expect(pages()[0]).toContain('-f approveAction');
    expect(pages()[0]).toContain("The idle stopper needs a person's approval to stop 2 instance(s)");
  });

  it('on a dry-run stage creates no approval and stops nothing', async () => {
    // Act
    const result = await anomaly(true);
    // Assert
    expect(table.approvals()).toHaveLength(0);
    expect(stopped()).toHaveLength(0);
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.stop-instances', reason: 'dry-run' });
  });

  it('stops the listed instances once approved, as onCostAnomaly (its decision, the shared budget)', async () => {
    // Arrange
    await anomaly();
    const approvalId = String(table.approvals()[0]?.approvalId);
    sns.resetHistory();
    // Act
    const answer = await approve(approvalId);
    const again = await approve(approvalId, { approvedBy: 'Bo Ops' });
    // Assert
    expect(stopped()).toEqual(IDLE);
    expect(answer.decided).toContain(`approved ${approvalId} by Ana Ops: stopped 2 of 2 instance(s)`);
    expect(again).toMatchObject({ refused: 'decided' });
    const budget = table.items.get(`ops-autopilot-${STAGE}#shared#stop-budget`);
    expect(budget?.claims).toEqual([expect.objectContaining({ instanceIds: IDLE })]);
    expect(pages()[0]).toContain(`Ana Ops approved ${approvalId}`);
  });

  it('on a dry-run approval says what it would stop and stops nothing', async () => {
    // Arrange
    await anomaly();
    const approvalId = String(table.approvals()[0]?.approvalId);
    // Act
    const answer = await approve(approvalId, { dryRun: true });
    // Assert
    expect(answer.decided).toContain(
      `would approve ${approvalId} for Ana Ops and then: would stop 2 instance(s)`,
    );
    expect(stopped()).toHaveLength(0);
    expect(table.approval(approvalId)?.status).toBe('pending');
  });
});
