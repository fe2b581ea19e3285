import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// A fleet of 3,000 idle opted-in instances read in DescribeInstances pages of 1,000, where a page after
// the first times out (a slow region, throttling, an emulator at 5,000 instances): issue 21's bench died
// on such a page and stopped nothing.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);

const N = 3000;
const id = (k: number) => `i-${k.toString(16).padStart(17, '0')}`;
/** Instance k idles at 0.1 % + k/10000: the lower k, the quieter. */
const cpuOf = (instanceId: string) => 0.1 + Number.parseInt(instanceId.slice(2), 16) / 10_000;
const timeout = () =>
  Object.assign(new Error('Request did not complete within 15000 ms'), { name: 'TimeoutError' });

/** Pages of MaxResults instances; the page starting at `failFrom` times out. */
const describePages = (failFrom: number) => (input: DescribeInstancesCommandInput) => {
  const size = input.MaxResults ?? 1000;
  const from = Number(input.NextToken ?? 0);
  if (from === failFrom) throw timeout();
  const ks = Array.from({ length: Math.min(size, N - from) }, (_, j) => from + j);
  return {
    Reservations: [
      {
        Instances: ks.map((k) => ({
          InstanceId: id(k),
          InstanceType: 't3.medium',
          State: { Name: 'running' as const, Code: 16 },
          RootDeviceType: 'ebs' as const,
          Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
        })),
      },
    ],
    ...(from + size < N ? { NextToken: String(from + size) } : {}),
  };
};

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  for (const m of [aws.of(DynamoDBClient), aws.of(DynamoDBDocumentClient)]) m.onAnyCommand().resolves({});
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(
      hourlyMetricAnswer((metric, instanceId) => (metric === 'CPUUtilization' ? cpuOf(instanceId) : 1000)),
    );
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const invoke = async () => {
  const { handler } = await import('#functions/stopIdleInstances/handler.ts');
  return handler({} as never, makeContext());
};

describe('an idle scan whose DescribeInstances page after the first times out', () => {
  it('judges the instances it read, stops the quietest of them and pages that the rest of the fleet was not read', async () => {
    // Arrange: the second page (instances 1000 to 1999) times out, so the third is never asked for.
    ec2.on(DescribeInstancesCommand).callsFake(describePages(1000));
    // Act
    const result = (await invoke()) as unknown as {
      findings: { counts: { considered: number }; scanStats: { describePagesFailed: number } };
    };
    // Assert
    const stopped = ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect([...stopped].sort()).toEqual(Array.from({ length: 10 }, (_, k) => id(k)).sort());
    expect(result.findings.counts.considered).toBe(1000);
    expect(result.findings.scanStats.describePagesFailed).toBe(1);
    const body = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(body).toContain(
      'Fleet partly read: DescribeInstances page 2 failed (TimeoutError); 1000 running instance(s) read and judged, the rest not read and not stopped.',
    );
  });

  it('fails the run, stopping nothing, when the first page cannot be read', async () => {
    // Arrange
    ec2.on(DescribeInstancesCommand).callsFake(describePages(0));
    // Act
    const run = invoke();
    // Assert
    await expect(run).rejects.toThrow('Request did not complete within 15000 ms');
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
