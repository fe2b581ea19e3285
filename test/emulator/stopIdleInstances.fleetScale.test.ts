import { describe, expect, it } from 'vitest';
import { seedFleet } from '../../tools/local/fleet.ts';
import { calls, callsOf, idle, invoke, MUTATING, OPT_IN, scanFleet } from '../support/idleEmulator.ts';

describe('the idle scan at fleet scale', () => {
  it('stays within ceil(N/1000) describe pages, ceil(n/100) + ceil(2k/100) metric calls and n + 2k metrics', async () => {
    // Arrange: 1200 running in 15 reservations, 605 in scope, 4 of them CPU-idle (one busy on the network).
    const fleet = await seedFleet([
      { name: 'busy', count: 400, tags: OPT_IN, cpu: { hours: 1, value: 55 }, perReservation: 100 },
      { name: 'no-data', count: 200, tags: OPT_IN, perReservation: 100 },
      { name: 'untagged', count: 500, perReservation: 100 },
      { name: 'eks', count: 95, tags: { ...OPT_IN, 'eks:cluster-name': 'main' }, perReservation: 100 },
      idle('idle', { count: 3 }),
      idle('chatty', { network: { hours: 24, value: 9_000_000 } }),
      idle('protected', { disableApiStop: true }),
    ]);
    const [N, n, k] = [1200, 605, 5];
    // Act
    const result = await invoke({ dryRun: true });
    // Assert
    const describes = callsOf('DescribeInstancesCommand');
    const metricCalls = callsOf('GetMetricDataCommand');
    const metricsRequested = metricCalls.reduce(
      (sum, c) => sum + (c.input.MetricDataQueries as unknown[]).length,
      0,
    );
    expect(fleet.all).toHaveLength(N);
    expect(describes.length).toBeLessThanOrEqual(Math.ceil(N / 1000));
    expect(metricCalls).toHaveLength(Math.ceil(n / 100) + Math.ceil((2 * k) / 100));
    expect(metricsRequested).toBe(n + 2 * k);
    expect(metricCalls.every((c) => (c.input.MetricDataQueries as unknown[]).length <= 100)).toBe(true);
    // Stop protection is not read: a live stop learns it from the refusal (the dry run plans 4 stops).
    expect(callsOf('DescribeInstanceAttributeCommand')).toHaveLength(0);
    expect(result).toMatchObject({
      findings: {
        scanStats: {
          describePages: describes.length,
          instancesRunning: N,
          instancesInScope: n,
          cpuIdleCandidates: k,
        },
        counts: { stop: 4 },
      },
    });
    expect(calls.filter((c) => MUTATING.includes(c.command))).toEqual([]);
    // 1200 instances seeded and scanned in moto: about 30 s on a busy 2-core machine, so room to spare.
  }, 120_000);

  it('follows NextToken to the last page of running instances', async () => {
    // Arrange: moto pages by reservation; 12 reservations at 5 per page make 3 pages.
    const fleet = await seedFleet([{ name: 'busy', count: 60, tags: OPT_IN, perReservation: 5 }]);
    // Act
    const scan = await scanFleet({
      scope: 'opt-in',
      policy: {
        lookbackHours: 24,
        cpuThresholdPercent: 5,
        networkThresholdBytesPerHour: 5_000_000,
        minCoverage: 0.9,
      },
      maxStopsPerHour: 10,
      describePageSize: 5,
    });
    // Assert
    expect(scan.scanStats.describePages).toBe(3);
    expect(scan.instances.map((i) => i.instanceId).sort()).toEqual([...fleet.all].sort());
  });
});
