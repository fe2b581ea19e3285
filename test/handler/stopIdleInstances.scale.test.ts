import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { scanFleet } from '#functions/stopIdleInstances/gather.ts';
import { decideFleet } from '#functions/stopIdleInstances/verdict.ts';

// A fleet of 5000 answered by mocked clients: the call and metric counts of a scan at full scale.
const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);

const N = 5000;
const id = (k: number) => `i-${k.toString(16).padStart(17, '0')}`;
/** Every 7th instance is not opted in; every 13th is spot; every 10th of the rest is CPU-idle. */
const inScope = (k: number) => k % 7 !== 0 && k % 13 !== 0;
const cpuIdle = (k: number) => inScope(k) && k % 10 === 3;

function instance(k: number): Instance {
  return {
    InstanceId: id(k),
    InstanceType: 't3.medium',
    State: { Name: 'running', Code: 16 },
    RootDeviceType: 'ebs',
    ...(k % 13 === 0 ? { InstanceLifecycle: 'spot' } : {}),
    Tags: k % 7 === 0 ? [] : [{ Key: 'ops:auto-stop', Value: 'true' }],
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

function metricData(input: GetMetricDataCommandInput) {
  const start = (input.StartTime as Date).getTime();
  const hours = Math.round(((input.EndTime as Date).getTime() - start) / 3_600_000);
  const times = Array.from({ length: hours }, (_, h) => new Date(start + h * 3_600_000));
  const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
    const instanceId = q.MetricStat?.Metric?.Dimensions?.[0]?.Value ?? '';
    const k = Number.parseInt(instanceId.slice(2), 16);
    const cpu = q.MetricStat?.Metric?.MetricName === 'CPUUtilization';
    const value = cpu ? (cpuIdle(k) ? 1 : 60) : 1000;
    return { Id: q.Id, StatusCode: 'Complete', Timestamps: times, Values: times.map(() => value) };
  });
  return { MetricDataResults: results };
}

beforeEach(() => {
  ec2.reset();
  cloudwatch.reset();
  ec2.on(DescribeInstancesCommand).callsFake(describePage);
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiStop: { Value: false } });
  cloudwatch.on(GetMetricDataCommand).callsFake(metricData);
});

describe('an idle scan of 5000 instances', () => {
  it('stays within O(N/500) calls: ceil(N/1000) pages, ceil(n/500) + ceil(2k/500) metric calls, n + 2k metrics', async () => {
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
    expect(metricCalls).toHaveLength(Math.ceil(n / 500) + Math.ceil((2 * k) / 500));
    expect(metricsRequested).toBe(n + 2 * k);
    expect(metricCalls.every((c) => (c.args[0].input.MetricDataQueries?.length ?? 0) <= 500)).toBe(true);
    expect(ec2.commandCalls(DescribeInstanceAttributeCommand)).toHaveLength(10);
    expect(scan.scanStats).toMatchObject({ instancesRunning: N, instancesInScope: n, cpuIdleCandidates: k });
    // And the plan over it stops exactly the cap, all of them CPU-idle instances in scope.
    const verdicts = decideFleet({ ...scan, policy, scope: 'opt-in', maxStopsPerHour: 10 });
    const stops = verdicts.filter((v) => v.decision === 'stop');
    expect(stops).toHaveLength(10);
    expect(stops.every((v) => cpuIdle(Number.parseInt(v.instanceId.slice(2), 16)))).toBe(true);
    expect(verdicts.filter((v) => v.decision === 'capped')).toHaveLength(k - 10);
  });
});
