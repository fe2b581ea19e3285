import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Stop protection is not read before stopping: StopInstances refuses a protected instance with
// OperationNotPermitted, and the page, planned before the stops ran, must say what actually happened.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);

const LARGE = 'i-0a0000000000000a1';
const M5 = 'i-0a0000000000000a2';
const PROTECTED = 'i-0a0000000000000a3';

const instance = (InstanceId: string, InstanceType: Instance['InstanceType']): Instance => ({
  InstanceId,
  InstanceType,
  State: { Name: 'running', Code: 16 },
  RootDeviceType: 'ebs',
  Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
});

/** EC2's refusal of a batch holding a stop-protected instance: it names the instance. */
const refusal = () =>
  Object.assign(
    new Error(
      `The instance '${PROTECTED}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`,
    ),
    { name: 'OperationNotPermitted' },
  );

beforeEach(() => {
  aws.reset();
  ssm.reset();
  withoutKillSwitch(ssm);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  documents.onAnyCommand().resolves({});
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [instance(LARGE, 't3.large'), instance(M5, 'm5.large'), instance(PROTECTED, 't3.micro')],
      },
    ],
  });
  // Every instance idle: 1 % CPU, 1 KB of network an hour.
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 1 : 1000)));
  ec2.on(StopInstancesCommand).callsFake((input: { InstanceIds?: string[] }) => {
    if (input.InstanceIds?.includes(PROTECTED)) throw refusal();
    return {};
  });
  ec2.on(CreateTagsCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

async function runScheduledScan() {
  const { handler } = await import('#functions/stopIdleInstances/handler.ts');
  await handler(loadFixture('stopIdleInstances/scheduled-event.json') as never, makeContext());
  const [publish, ...more] = sns.commandCalls(PublishCommand);
  expect(more).toHaveLength(0);
  return { subject: publish?.args[0].input.Subject ?? '', body: publish?.args[0].input.Message ?? '' };
}

describe('the page of a live idle scan whose StopInstances refuses a stop-protected instance', () => {
  it('counts only the instances actually stopped in its subject, saving and summary', async () => {
    // Act
    const { subject, body } = await runScheduledScan();
    // Assert: t3.large and m5.large stopped ($60.74 + $70.08); the t3.micro ($7.59) refused.
    expect(subject).toBe(
      '[WARNING] ec2.idle-scan: idle scan stopping 2 instance(s) (est. $130.82/month); 1 stop-protected',
    );
    expect(body).toContain(
      '3 running instance(s) considered: 2 idle to stop, 0 capped, 0 spared, 1 excluded (1 refused by stop protection when stopped).',
    );
    expect(body).toContain('Estimated monthly saving: $130.82/month (on-demand compute');
    expect(body).toContain('; 1 refused by stop protection');
    expect(body).toContain(`ec2 instance ${M5}`);
    expect(body).not.toContain(`ec2 instance ${PROTECTED}`);
  });

  it('lists the refused instance as excluded for stop protection, with the refusal as its reason', async () => {
    // Act
    const { body } = await runScheduledScan();
    // Assert
    expect(body).toContain(`stop      ${LARGE}  t3.large`);
    expect(body).toContain(`stop      ${M5}  m5.large`);
    expect(body).not.toContain(`stop      ${PROTECTED}`);
    expect(body).toMatch(new RegExp(`excluded  ${PROTECTED}  t3\\.micro .* -$`, 'm'));
    expect(body).toContain(
      `excluded ${PROTECTED} (stop-protection): Stop protection is on: StopInstances refused it (OperationNotPermitted).`,
    );
    expect(body).toContain('Excluded: 1 (stop-protection 1)');
  });
});
