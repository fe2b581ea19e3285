import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, type DescribeInstancesCommandInput, EC2Client } from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { SDK_LARGE_REQUEST_TIMEOUT_MS } from '#shared/aws/client.ts';
import { scanFleet } from '#shared/idle/gather.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';

// Issue 21: DescribeInstances asked 1,000 instances a page. moto renders an instance in about 15 ms at
// 5,000 instances (more on a loaded machine), so such a page outlasted the 15 s request timeout and the
// scan of 5,000 read nothing. Here the EC2 mock counts MaxResults in instances, as EC2 does, and takes
// a set time per instance on a clock the scan is given, so no test waits for it. The scan's first
// request alone has a budget (half the request timeout): a first page the model says would take longer
// never answers, and the model tells the scan it is over its budget (a latch, in place of the timer).
const aws = await mockAwsClients();
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);

const policy = {
  lookbackHours: 24,
  cpuThresholdPercent: 5,
  networkThresholdBytesPerHour: 5_000_000,
  minCoverage: 0.9,
};
const id = (k: number) => `i-${k.toString(16).padStart(17, '0')}`;
/** The first page's budget as the model counts it (the scan's, in the model's milliseconds). */
const FIRST_PAGE_BUDGET_MS = SDK_LARGE_REQUEST_TIMEOUT_MS / 2;
const timeout = () =>
  Object.assign(new Error(`Request did not complete within ${SDK_LARGE_REQUEST_TIMEOUT_MS} ms`), {
    name: 'TimeoutError',
  });

/**
 * A fleet of `n` answered at `msPerInstance`: the first request, if slower than its budget, never answers
 * (the scan abandons it); a later page slower than the request timeout times out.
 */
function fleetAnswering(n: number, msPerInstance: number) {
  const clock = { now: 0 };
  const pageSizes: number[] = [];
  let overBudget: () => void = () => undefined;
  const firstPageOverBudget = new Promise<void>((resolve) => {
    overBudget = resolve;
  });
  const answer = (input: DescribeInstancesCommandInput) => {
    const size = input.MaxResults ?? 1000;
    pageSizes.push(size);
    const from = Number(input.NextToken ?? 0);
    const count = Math.min(size, n - from);
    const took = count * msPerInstance;
    if (pageSizes.length === 1 && took > FIRST_PAGE_BUDGET_MS) {
      clock.now += FIRST_PAGE_BUDGET_MS;
      overBudget();
      return new Promise<never>(() => {});
    }
    clock.now += Math.min(took, SDK_LARGE_REQUEST_TIMEOUT_MS);
    if (took > SDK_LARGE_REQUEST_TIMEOUT_MS) throw timeout();
    const instances = Array.from({ length: count }, (_, j) => ({
      InstanceId: id(from + j),
      InstanceType: 't3.medium' as const,
      State: { Name: 'running' as const, Code: 16 },
      RootDeviceType: 'ebs' as const,
      Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
    }));
    return {
      Reservations: [{ Instances: instances }],
      ...(from + count < n ? { NextToken: String(from + count) } : {}),
    };
  };
  return { clock, pageSizes, answer, firstPageOverBudget: () => firstPageOverBudget };
}

beforeEach(() => {
  aws.reset();
  cloudwatch.on(GetMetricDataCommand).callsFake(hourlyMetricAnswer(() => 60));
});

describe('the idle scan reading a fleet whose DescribeInstances answers are slow', () => {
  it('reads all 5,000 instances at 16 ms an instance (moto at 5,000): the first page of 1,000 abandoned unretried, every later page inside the request timeout', async () => {
    // Arrange: a page of 1,000 would take 16 s, over the first page's 7.5 s budget and the 15 s request timeout.
    const fleet = fleetAnswering(5000, 16);
    ec2.on(DescribeInstancesCommand).callsFake(fleet.answer);
    // Act
    const scan = await scanFleet({
      scope: 'opt-in',
      policy,
      maxStopsPerHour: 10,
      clock: () => fleet.clock.now,
      describeFirstPageOverBudget: fleet.firstPageOverBudget,
    });
    // Assert
    expect(scan.scanStats).toMatchObject({ instancesRunning: 5000, describePagesFailed: 0 });
    expect(new Set(scan.instances.map((i) => i.instanceId)).size).toBe(5000);
    expect(fleet.pageSizes[0]).toBe(1000);
    expect(fleet.pageSizes.slice(1).every((size) => size * 16 <= SDK_LARGE_REQUEST_TIMEOUT_MS)).toBe(true);
    // The abandoned request was aborted (the client does not retry an abort), and asked once.
    const [firstCall] = ec2.commandCalls(DescribeInstancesCommand);
    const first = (firstCall?.args as unknown[] | undefined)?.[1] as
      | { abortSignal?: AbortSignal }
      | undefined;
    expect(first?.abortSignal?.aborted).toBe(true);
    expect(fleet.pageSizes.filter((size) => size === 1000)).toHaveLength(1);
  });

  it('shrinks its pages to what a slower answer allows and still reads the whole fleet', async () => {
    // Arrange: 60 ms an instance (a heavily loaded emulator): a page of 250 would time out.
    const fleet = fleetAnswering(2000, 60);
    ec2.on(DescribeInstancesCommand).callsFake(fleet.answer);
    // Act
    const scan = await scanFleet({
      scope: 'opt-in',
      policy,
      maxStopsPerHour: 10,
      clock: () => fleet.clock.now,
      describeFirstPageOverBudget: fleet.firstPageOverBudget,
    });
    // Assert
    expect(scan.scanStats).toMatchObject({ instancesRunning: 2000, describePagesFailed: 0 });
    expect(Math.min(...fleet.pageSizes)).toBeLessThan(200);
    expect(
      fleet.pageSizes.slice(1).every((size) => size >= 5 && size * 60 <= SDK_LARGE_REQUEST_TIMEOUT_MS),
    ).toBe(true);
  });
});

describe('the idle scan reading a fleet whose DescribeInstances answers slow down suddenly', () => {
  it('asks a page that timed out again from the same token at half its size, and reads the whole fleet', async () => {
    // Arrange: 5 ms an instance (the first page of 1,000 in 5 s, inside its budget), then 100 ms from
    // instance 1,000 on: the page sized for 5 ms times out.
    const clock = { now: 0 };
    const asked: { from: number; size: number }[] = [];
    ec2.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      const size = input.MaxResults ?? 1000;
      const from = Number(input.NextToken ?? 0);
      asked.push({ from, size });
      const count = Math.min(size, 3000 - from);
      const took = count * (from >= 1000 ? 100 : 5);
      clock.now += Math.min(took, SDK_LARGE_REQUEST_TIMEOUT_MS);
      if (took > SDK_LARGE_REQUEST_TIMEOUT_MS) throw timeout();
      const instances = Array.from({ length: count }, (_, j) => ({
        InstanceId: id(from + j),
        State: { Name: 'running' as const, Code: 16 },
      }));
      return {
        Reservations: [{ Instances: instances }],
        ...(from + count < 3000 ? { NextToken: String(from + count) } : {}),
      };
    });
    // Act
    const scan = await scanFleet({ scope: 'opt-in', policy, maxStopsPerHour: 10, clock: () => clock.now });
    // Assert
    expect(scan.scanStats).toMatchObject({ instancesRunning: 3000, describePagesFailed: 0 });
    const timedOut = asked.findIndex(
      (a) => a.size * (a.from >= 1000 ? 100 : 5) > SDK_LARGE_REQUEST_TIMEOUT_MS,
    );
    expect(timedOut).toBeGreaterThan(0);
    expect(asked[timedOut + 1]).toEqual({
      from: asked[timedOut]?.from,
      size: Math.floor((asked[timedOut]?.size ?? 0) / 2),
    });
  });
});

describe('the idle scan reading a fleet whose DescribeInstances answers are quick (EC2)', () => {
  it("asks EC2's maximum of 1,000 a page from the first: 1,000 instances in 1 call, 5,000 in 5", async () => {
    for (const [n, calls] of [
      [1000, 1],
      [5000, 5],
    ] as const) {
      // Arrange: 1 ms an instance, a page of 1,000 in a second.
      aws.reset();
      cloudwatch.on(GetMetricDataCommand).callsFake(hourlyMetricAnswer(() => 60));
      const fleet = fleetAnswering(n, 1);
      ec2.on(DescribeInstancesCommand).callsFake(fleet.answer);
      // Act
      const scan = await scanFleet({
        scope: 'opt-in',
        policy,
        maxStopsPerHour: 10,
        clock: () => fleet.clock.now,
      });
      // Assert
      expect(scan.scanStats.instancesRunning).toBe(n);
      expect(ec2.commandCalls(DescribeInstancesCommand).length).toBeLessThanOrEqual(calls);
      expect(fleet.pageSizes.every((size) => size >= 5 && size <= 1000)).toBe(true);
    }
  });
});
