import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer: every AWS client mocked, so what the function asks of EC2 and the state table is seen.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);
const budgets = aws.of(BudgetsClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const ssm = aws.of(SSMClient);
let handler: typeof import('#functions/onCostAnomaly/handler.ts').handler;

const STOP_BUDGET = 'ops-autopilot-dev#shared#stop-budget';
const IDLE = ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'];

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onCostAnomaly/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
  // Two opted-in instances at 1 % CPU and 20 kB an hour, one busy one that did not opt in.
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          ...IDLE.map((InstanceId) => ({
            InstanceId,
            InstanceType: 'm5.large' as const,
            State: { Name: 'running' as const },
            RootDeviceType: 'ebs' as const,
            Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
          })),
          {
            InstanceId: 'i-0bbbbbbbbbbbbbbb1',
            InstanceType: 'm5.large' as const,
            State: { Name: 'running' as const },
            RootDeviceType: 'ebs' as const,
          },
        ],
      },
    ],
  });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiStop: { Value: false } });
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 1 : 10_000)));
});

function setStageDryRun(dryRun: boolean) {
  process.env.DRY_RUN = String(dryRun);
  resetConfigForTests();
}

const invoke = (event: unknown) =>
  handler(event as never, makeContext('ops-autopilot-dev-onCostAnomaly')) as Promise<PipelineResult>;
const budgetWrites = () =>
  documents.commandCalls(PutCommand).filter((c) => c.args[0].input.Item?.id === STOP_BUDGET);
const pageBody = () => String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);

describe('onCostAnomaly handler: stopping idle instances', () => {
  it('stops nothing and spends no budget on a dry-run stage, and pages what it would stop', async () => {
    // Arrange
    setStageDryRun(true);
    // Act
    const result = await invoke(loadFixture('onCostAnomaly/ec2-above-stop-threshold.json'));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(budgetWrites()).toHaveLength(0);
    expect(result.outcomes[0]).toMatchObject({
      kind: 'ec2.stop-instances',
      status: 'skipped',
      reason: 'dry-run',
      detail: `would stop 2 instance(s): ${IDLE.join(', ')}; stop protection not read (a live run stops optimistically and reports a protected instance when it refuses)`,
    });
    expect(pageBody()).toContain(
      `SKIPPED (dry-run) ec2.stop-instances: would stop 2 instance(s): ${IDLE.join(', ')}`,
    );
    expect(pageBody()).toMatch(/stop +i-0aaaaaaaaaaaaaaa1 +m5\.large +1 % +20 KB +24\/24/);
  });

  it("stops and tags the idle opted-in instances on a live stage, claiming the account's shared budget", async () => {
    // Arrange
    setStageDryRun(false);
    // Act
    await invoke(loadFixture('onCostAnomaly/ec2-above-stop-threshold.json'));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds)).toEqual(IDLE);
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Tags).toContainEqual({
      Key: 'ops:stopped-by',
      Value: 'ops-autopilot',
    });
    expect(budgetWrites()).toHaveLength(1);
    expect(budgetWrites()[0]?.args[0].input.Item?.claims).toEqual([
      expect.objectContaining({ instanceIds: IDLE }),
    ]);
    expect(pageBody()).toContain(`DONE ec2.stop-instances: stopped 2 of 2 instance(s): ${IDLE.join(', ')}`);
  });

  it('reads neither the fleet nor its metrics for an invalid event', async () => {
    // Arrange
    setStageDryRun(false);
    // Act
    const error = await invoke(loadFixture('onCostAnomaly/invalid/negative-impact.json')).catch(
      (e: unknown) => e,
    );
    // Assert
    expect((error as Error).name).toBe('InvalidEventError');
    expect(ec2.calls()).toHaveLength(0);
    expect(cloudwatch.calls()).toHaveLength(0);
  });
});
