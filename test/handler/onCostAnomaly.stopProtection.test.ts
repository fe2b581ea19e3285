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
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer: an anomaly's idle stops on a live stage, where StopInstances refuses a stop-protected
// instance (OperationNotPermitted). The page, planned before the stops ran, must say what happened.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const budgets = aws.of(BudgetsClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const ssm = aws.of(SSMClient);
let handler: typeof import('#functions/onCostAnomaly/handler.ts').handler;

const STOPPED = 'i-0aaaaaaaaaaaaaaa1';
const PROTECTED = 'i-0aaaaaaaaaaaaaaa2';

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onCostAnomaly/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  aws.answerAsEmptyStateTable();
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
  // Two opted-in instances at 1 % CPU and 20 kB an hour; the second has stop protection on.
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [STOPPED, PROTECTED].map((InstanceId) => ({
          InstanceId,
          InstanceType: 'm5.large' as const,
          State: { Name: 'running' as const },
          RootDeviceType: 'ebs' as const,
          Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
        })),
      },
    ],
  });
  ec2.on(StopInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => {
    if (input.InstanceIds?.includes(PROTECTED)) {
      throw Object.assign(
        new Error(
          `The instance '${PROTECTED}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`,
        ),
        { name: 'OperationNotPermitted' },
      );
    }
    return {};
  });
  ec2.on(CreateTagsCommand).resolves({});
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 1 : 10_000)));
});

describe('the page of a cost anomaly whose idle stop is refused by stop protection', () => {
  it('says how many the idle stopper stopped and lists the refused instance as excluded for stop protection', async () => {
    // Act
    await handler(
      loadFixture('onCostAnomaly/ec2-above-stop-threshold.json') as never,
      makeContext('ops-autopilot-dev-onCostAnomaly'),
    );
    // Assert
    const body = String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(body).toContain(
      '  The idle stopper stops 1 instance(s) (1 more refused by stop protection), quietest first,',
    );
    expect(body).toMatch(new RegExp(`^ {2}stop +${STOPPED} +m5\\.large `, 'm'));
    expect(body).toMatch(new RegExp(`^ {2}excluded +${PROTECTED} +m5\\.large .* -$`, 'm'));
    expect(body).toContain(
      `excluded ${PROTECTED} (stop-protection): Stop protection is on: StopInstances refused it (OperationNotPermitted).`,
    );
    expect(body).toContain('Excluded: 1 (stop-protection 1)');
    expect(body).toContain(`stopped 1 of 2 instance(s): ${STOPPED}; 1 refused by stop protection`);
  });
});
