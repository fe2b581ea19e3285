import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
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

// A fleet of 300 idle opted-in instances answered by mocked clients, where one GetMetricData page of the
// scan times out (a slow region, throttling, an emulator) or every page does.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);

const N = 300;
const id = (k: number) => `i-${k.toString(16).padStart(17, '0')}`;
const ids = Array.from({ length: N }, (_, k) => id(k));
/** Instance k idles at 0.1 % + k/1000: the lower k, the quieter, so the stops are the lowest readable k. */
const cpuOf = (instanceId: string) => 0.1 + Number.parseInt(instanceId.slice(2), 16) / 1000;

const timeout = () =>
  Object.assign(new Error('Request did not complete within 15000 ms'), { name: 'TimeoutError' });
const queriedInstances = (input: GetMetricDataCommandInput) =>
  (input.MetricDataQueries ?? []).map((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value ?? '');
const answer = hourlyMetricAnswer((metric, instanceId) =>
  metric === 'CPUUtilization' ? cpuOf(instanceId) : 1000,
);

interface Verdict {
  instanceId: string;
  decision: string;
  status?: string;
  reason: string;
}

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  for (const m of [aws.of(DynamoDBClient), aws.of(DynamoDBDocumentClient)]) m.onAnyCommand().resolves({});
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: ids.map((InstanceId) => ({
          InstanceId,
          InstanceType: 't3.medium',
          State: { Name: 'running', Code: 16 },
          RootDeviceType: 'ebs',
          Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
        })),
      },
    ],
  });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiStop: { Value: false } });
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const invoke = async (payload: unknown) => {
  const { handler } = await import('#functions/stopIdleInstances/handler.ts');
  return handler(payload as never, makeContext());
};

describe('an idle scan whose GetMetricData page times out', () => {
  it('spares that page as no-data (metrics unavailable), stops the quietest of the rest and pages the unreadable count', async () => {
    // Arrange: the CPU page holding the quietest instance times out; every other page answers.
    let failed: string[] = [];
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const queried = queriedInstances(input);
      if (
        queried.includes(id(0)) &&
        input.MetricDataQueries?.[0]?.MetricStat?.Metric?.MetricName === 'CPUUtilization'
      ) {
        failed = queried;
        throw timeout();
      }
      return answer(input);
    });
    // Act
    const result = (await invoke({})) as unknown as { findings: { verdicts: Verdict[] } };
    // Assert
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(N);
    const unreadable = new Set(failed);
    const verdicts = new Map(result.findings.verdicts.map((v) => [v.instanceId, v]));
    for (const instanceId of failed) {
      expect(verdicts.get(instanceId)).toMatchObject({ decision: 'spare', status: 'no-data' });
      expect(verdicts.get(instanceId)?.reason).toMatch(/^No data \(metrics unavailable\): .*TimeoutError/);
    }
    const quietestReadable = ids.filter((i) => !unreadable.has(i)).slice(0, 10);
    const stopped = ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect([...stopped].sort()).toEqual([...quietestReadable].sort());
    const body = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(body).toContain(`Metrics unavailable: ${failed.length} of ${N} instance(s) unreadable`);
  });

  it('spares the CPU-idle instances of a failed network page as no-data and stops the rest', async () => {
    // Arrange: the NetworkIn/NetworkOut page holding the quietest instance fails (throttled, not timed out).
    let failed: string[] = [];
    cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const queried = queriedInstances(input);
      const metric = input.MetricDataQueries?.[0]?.MetricStat?.Metric?.MetricName;
      if (queried.includes(id(0)) && metric !== 'CPUUtilization') {
        failed = [...new Set(queried)];
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      }
      return answer(input);
    });
    // Act
    const result = (await invoke({})) as unknown as { findings: { verdicts: Verdict[] } };
    // Assert
    expect(failed.length).toBeGreaterThan(0);
    const verdicts = new Map(result.findings.verdicts.map((v) => [v.instanceId, v]));
    for (const instanceId of failed) {
      expect(verdicts.get(instanceId)?.reason).toMatch(
        /^No data \(metrics unavailable\): GetMetricData page \d+ of \d+ \(NetworkIn\) failed: ThrottlingException/,
      );
    }
    const unreadable = new Set(failed);
    const stopped = ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect([...stopped].sort()).toEqual(
      ids
        .filter((i) => !unreadable.has(i))
        .slice(0, 10)
        .sort(),
    );
  });

  it('fails the run, naming what could not be read, when no metric page can be read', async () => {
    // Arrange
    cloudwatch.on(GetMetricDataCommand).rejects(timeout());
    // Act
    const run = invoke({});
    // Assert
    await expect(run).rejects.toThrow(`metrics unavailable: no GetMetricData page could be read`);
    await expect(run).rejects.toThrow(`${N} of ${N} instance(s) unreadable`);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
  });
});
