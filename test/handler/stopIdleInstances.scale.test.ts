import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  type Instance,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { deployment } from '#functions/stopIdleInstances/deployment.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { decideFleet } from '#shared/idle/fleet.ts';
import { METRIC_QUERIES_PER_PAGE, scanFleet } from '#shared/idle/gather.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// A fleet of 5000 answered by mocked clients: the call and metric counts of a scan at full scale.
// Only the kill switch's GetParameter: no parameter, so the stage decides.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const dynamodb = aws.of(DynamoDBClient);
const documents = aws.of(DynamoDBDocumentClient);

const N = 5000;
/**
 * The deployed function's timeout, not makeContext's 60 s: a loaded machine may take a minute over 5000
 * instances, and the deadline is not what these tests prove.
 */
const deployedContext = () => ({
  ...makeContext(),
  getRemainingTimeInMillis: () => (deployment.timeout ?? 300) * 1000,
});
const id = (k: number) => `i-${k.toString(16).padStart(17, '0')}`;
/** Every 7th instance is not opted in; every 13th is spot; every 10th of the rest is CPU-idle. */
let allIdle = false;
const inScope = (k: number) => allIdle || (k % 7 !== 0 && k % 13 !== 0);
const cpuIdle = (k: number) => allIdle || (inScope(k) && k % 10 === 3);

function instance(k: number): Instance {
  return {
    InstanceId: id(k),
    InstanceType: 't3.medium',
    State: { Name: 'running', Code: 16 },
    RootDeviceType: 'ebs',
    ...(!allIdle && k % 13 === 0 ? { InstanceLifecycle: 'spot' } : {}),
    Tags: !allIdle && k % 7 === 0 ? [] : [{ Key: 'ops:auto-stop', Value: 'true' }],
  };
}

function describePage(input: DescribeInstancesCommandInput) {
  const size = input.MaxResults ?? 1000;
  const from = Number(input.NextToken ?? 0);
  const ks = Array.from({ length: Math.min(size, N - from) }, (_, j) => from + j);
  return {
    Reservations: [{ Instances: ks.map(instance) }],
    ...(from + size < N ? { NextToken: String(from + size) } : {}),
  };
}

/** Every CPU-idle instance answers 1 % CPU, the rest 60 %; network is always 1 KB an hour. */
const metricData = hourlyMetricAnswer((metric, instanceId) => {
  const k = Number.parseInt(instanceId.slice(2), 16);
  return metric === 'CPUUtilization' ? (cpuIdle(k) ? 1 : 60) : 1000;
});

beforeEach(() => {
  allIdle = false;
  aws.reset();
  ssm.reset();
  withoutKillSwitch(ssm);
  ec2.on(DescribeInstancesCommand).callsFake(describePage);
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiStop: { Value: false } });
  cloudwatch.on(GetMetricDataCommand).callsFake(metricData);
});

describe('an idle scan of 5000 instances', () => {
  it('stays within O(N/100) calls: ceil(N/1000) pages, ceil(n/100) + ceil(2k/100) metric calls, n + 2k metrics, no stop-protection reads', async () => {
    // Arrange
    const policy = {
      lookbackHours: 24,
      cpuThresholdPercent: 5,
      networkThresholdBytesPerHour: 5_000_000,
      minCoverage: 0.9,
    };
    const n = Array.from({ length: N }, (_, k) => k).filter(inScope).length;
    const k = Array.from({ length: N }, (_, j) => j).filter(cpuIdle).length;
    // Act
    const scan = await scanFleet({ scope: 'opt-in', policy, maxStopsPerHour: 10 });
    // Assert
    const metricCalls = cloudwatch.commandCalls(GetMetricDataCommand);
    const metricsRequested = metricCalls.reduce(
      (sum, c) => sum + (c.args[0].input.MetricDataQueries?.length ?? 0),
      0,
    );
    expect(ec2.commandCalls(DescribeInstancesCommand).length).toBeLessThanOrEqual(Math.ceil(N / 1000));
    const page = METRIC_QUERIES_PER_PAGE;
    expect(metricCalls).toHaveLength(Math.ceil(n / page) + Math.ceil((2 * k) / page));
    expect(metricsRequested).toBe(n + 2 * k);
    expect(metricCalls.every((c) => (c.args[0].input.MetricDataQueries?.length ?? 0) <= page)).toBe(true);
    // Stop protection is learnt from StopInstances' refusal, not read per candidate.
    expect(ec2.commandCalls(DescribeInstanceAttributeCommand)).toHaveLength(0);
    expect(scan.scanStats).toMatchObject({ instancesRunning: N, instancesInScope: n, cpuIdleCandidates: k });
    // And the plan over it stops exactly the cap, all of them CPU-idle instances in scope.
    const verdicts = decideFleet({ ...scan, policy, scope: 'opt-in', maxStopsPerHour: 10 });
    const stops = verdicts.filter((v) => v.decision === 'stop');
    expect(stops).toHaveLength(10);
    expect(stops.every((v) => cpuIdle(Number.parseInt(v.instanceId.slice(2), 16)))).toBe(true);
    expect(verdicts.filter((v) => v.decision === 'capped')).toHaveLength(k - 10);
  });
});

/** What SNS counts against its 262,144-byte limit: subject, body, and every message attribute. */
function publishedBytes(input: {
  Subject?: string;
  Message?: string;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}): number {
  const attributes = Object.entries(input.MessageAttributes ?? {}).reduce(
    (sum, [name, v]) =>
      sum +
      Buffer.byteLength(name) +
      Buffer.byteLength(v.DataType ?? '') +
      Buffer.byteLength(v.StringValue ?? ''),
    0,
  );
  return Buffer.byteLength(input.Subject ?? '') + Buffer.byteLength(input.Message ?? '') + attributes;
}

describe('the page of a scheduled scan with 5000 idle instances in scope', () => {
  it('stays well under the SNS message limit, lists what was done, counts the rest and says where the verdicts are', async () => {
    // Arrange: every instance in scope and idle, a live stage, an empty state table.
    allIdle = true;
    process.env.STATE_TABLE_NAME = 'state';
    process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    dynamodb.on(PutItemCommand).resolves({});
    dynamodb.on(UpdateItemCommand).resolves({});
    dynamodb.on(GetItemCommand).resolves({});
    documents.on(GetCommand).resolves({});
    documents.on(PutCommand).resolves({});
    documents.on(UpdateCommand).resolves({});
    documents.on(BatchWriteCommand).resolves({});
    ec2.on(StopInstancesCommand).resolves({});
    ec2.on(CreateTagsCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const { handler } = await import('#functions/stopIdleInstances/handler.ts');
    // Act
    await handler(loadFixture('stopIdleInstances/scheduled-event.json') as never, deployedContext());
    // Assert
    const [publish, ...more] = sns.commandCalls(PublishCommand);
    expect(more).toHaveLength(0);
    const input = publish?.args[0].input ?? { Message: '' };
    expect(publishedBytes(input)).toBeLessThan(64 * 1024);
    const body = input.Message ?? '';
    const stopped = ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect(stopped).toHaveLength(10);
    for (const id of stopped) expect(body).toContain(`stop      ${id}`);
    expect(body.match(/^ {2}capped /gm)).toHaveLength(50);
    expect(body).toContain('4940 more capped (not listed)');
    expect(body).toContain('"idle verdicts"');
  });
});

describe('tagging the stops of a run whose instances each have their own figures', () => {
  it('costs one CreateTags call for the run and keeps each instance figures in the action log', async () => {
    // Arrange: every CPU-idle instance answers its own CPU figure (0.1 % to 4.9 %), a live stage.
    process.env.STATE_TABLE_NAME = 'state';
    process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    cloudwatch.on(GetMetricDataCommand).callsFake(
      hourlyMetricAnswer((metric, instanceId) => {
        const k = Number.parseInt(instanceId.slice(2), 16);
        if (metric !== 'CPUUtilization') return 1000;
        return cpuIdle(k) ? 0.1 + (k % 49) / 10 : 60;
      }),
    );
    for (const m of [dynamodb, documents]) m.onAnyCommand().resolves({});
    ec2.on(StopInstancesCommand).resolves({});
    ec2.on(CreateTagsCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const { handler } = await import('#functions/stopIdleInstances/handler.ts');
    // Act
    await handler(loadFixture('stopIdleInstances/scheduled-event.json') as never, deployedContext());
    // Assert
    const stopped = ec2.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect(stopped).toHaveLength(10);
    const tagCalls = ec2.commandCalls(CreateTagsCommand);
    expect(tagCalls).toHaveLength(1);
    expect(tagCalls[0]?.args[0].input.Resources?.sort()).toEqual([...stopped].sort());
    const stopReason = tagCalls[0]?.args[0].input.Tags?.find((t) => t.Key === 'ops:stop-reason')?.Value;
    expect(stopReason).toMatch(/^idle-stop: hourly CPU max < 5 %/);
    const logged = aws.actionLog().filter((item) => item.resource !== undefined);
    expect(logged.map((item) => item.resource).sort()).toEqual([...stopped].sort());
    const figures = new Set(
      logged.map((item) => String(item.detail).match(/hourly CPU max ([\d.]+) %/)?.[1]),
    );
    expect(figures.size).toBeGreaterThan(1);
  });
});
