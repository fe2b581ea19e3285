import { describe, expect, it } from 'vitest';
import { decideFleet, summarizeSavings } from '#shared/idle/fleet.ts';
import { estimateMonthlySavingUsd, onDemandMonthlyUsd } from '#shared/idle/pricing.ts';
import { hourly, MB, makeInstance, policy, quietMetrics, runFleet } from '../support/idleVerdict.ts';

describe('decideFleet', () => {
  it('stops an opted-in idle instance and says why with numbers', () => {
    // Arrange
    const instance = makeInstance();

    // Act
    const [verdict] = runFleet([instance], quietMetrics([instance.instanceId]));

    // Assert
    expect(verdict?.decision).toBe('stop');
    expect(verdict?.status).toBe('idle');
    expect(verdict?.reason).toContain('1 %');
    expect(verdict?.reason).toContain('24 of 24 hours');
    expect(verdict?.evidence).toMatchObject({
      maxCpuPercent: 1,
      maxNetworkBytesPerHour: 2 * MB,
      cpuCoverage: 1,
    });
    expect(verdict?.estimatedMonthlySavingUsd).toBe(onDemandMonthlyUsd['t3.large']);
  });

  it('excludes a screened-out instance with its exclusion and a reason', () => {
    // Arrange
    const instance = makeInstance({
      tags: { 'ops:auto-stop': 'true', 'aws:autoscaling:groupName': 'web-asg' },
    });

    // Act
    const [verdict] = runFleet([instance], quietMetrics([instance.instanceId]));

    // Assert
    expect(verdict).toMatchObject({ decision: 'excluded', exclusion: 'auto-scaling-member' });
    expect(verdict?.reason).toContain('web-asg');
  });

  it('spares an instance with 21 of 24 hours of CPU data', () => {
    // Arrange
    const instance = makeInstance();
    const metrics = quietMetrics([instance.instanceId]);
    metrics.cpu[instance.instanceId] = hourly(21, 0.5);

    // Act
    const [verdict] = runFleet([instance], metrics);

    // Assert
    expect(verdict).toMatchObject({ decision: 'spare', status: 'not-enough-data' });
    expect(verdict?.reason).toContain('21 of 24 hours');
  });

  it('spares an instance missing from the CPU map', () => {
    // Arrange
    const instance = makeInstance();

    // Act
    const [verdict] = runFleet([instance], {});

    // Assert
    expect(verdict).toMatchObject({ decision: 'spare', status: 'not-enough-data' });
  });

  it('spares an unreadable instance as no-data (metrics unavailable) and gives its stop to the next idle one', () => {
    // Arrange: both quiet; the quieter one's GetMetricData page failed, so its (partial) series are not judged.
    const unreadable = makeInstance({ instanceId: 'i-00000000000000001' });
    const readable = makeInstance({ instanceId: 'i-00000000000000002' });
    const metrics = quietMetrics([unreadable.instanceId, readable.instanceId]);
    metrics.cpu[unreadable.instanceId] = hourly(24, 0.5);

    // Act
    const [first, second] = decideFleet({
      instances: [unreadable, readable],
      cpu: new Map(Object.entries(metrics.cpu)),
      netIn: new Map(Object.entries(metrics.netIn)),
      netOut: new Map(Object.entries(metrics.netOut)),
      unreadable: new Map([
        [unreadable.instanceId, 'GetMetricData page 1 of 1 (CPUUtilization) failed: TimeoutError'],
      ]),
      policy,
      scope: 'opt-in',
      maxStopsPerHour: 1,
    });

    // Assert
    expect(first).toMatchObject({ decision: 'spare', status: 'no-data', estimatedMonthlySavingUsd: 0 });
    expect(first?.reason).toBe(
      'No data (metrics unavailable): GetMetricData page 1 of 1 (CPUUtilization) failed: TimeoutError; not stopped for what could not be read.',
    );
    expect(second).toMatchObject({ decision: 'stop', status: 'idle' });
  });

  it('spares an instance whose CPU reaches the threshold', () => {
    // Arrange
    const instance = makeInstance();
    const metrics = quietMetrics([instance.instanceId]);
    metrics.cpu[instance.instanceId] = hourly(24, 5);

    // Act
    const [verdict] = runFleet([instance], metrics);

    // Assert
    expect(verdict).toMatchObject({ decision: 'spare', status: 'busy-cpu' });
    expect(verdict?.evidence?.networkCoverage).toBeNull();
    expect(verdict?.reason).toContain('5 %');
  });

  it('spares a CPU-idle instance busy on the network', () => {
    // Arrange
    const instance = makeInstance();
    const metrics = quietMetrics([instance.instanceId]);
    metrics.netOut[instance.instanceId] = hourly(24, 50 * MB);

    // Act
    const [verdict] = runFleet([instance], metrics);

    // Assert
    expect(verdict).toMatchObject({ decision: 'spare', status: 'busy-network' });
    expect(verdict?.reason).toContain('51 MB');
  });

  it('spares a CPU-idle instance without network data', () => {
    // Arrange
    const instance = makeInstance();
    const metrics = quietMetrics([instance.instanceId]);

    // Act
    const [verdict] = runFleet([instance], { cpu: metrics.cpu });

    // Assert
    expect(verdict).toMatchObject({ decision: 'spare', status: 'not-enough-data' });
  });

  it('stops at most the cap and reports the rest as capped, quietest first', () => {
    // Arrange: 12 idle instances, CPU from 0.1 % (i-..00) to 1.2 % (i-..11)
    const instances = Array.from({ length: 12 }, (_, k) =>
      makeInstance({ instanceId: `i-0idle${String(k).padStart(11, '0')}` }),
    );
    const metrics = quietMetrics(instances.map((i) => i.instanceId));
    instances.forEach((instance, k) => {
      metrics.cpu[instance.instanceId] = hourly(24, (k + 1) / 10);
    });

    // Act
    const verdicts = runFleet(instances, metrics, 'opt-in', 10);

    // Assert
    expect(verdicts.filter((v) => v.decision === 'stop')).toHaveLength(10);
    const capped = verdicts.filter((v) => v.decision === 'capped');
    expect(capped.map((v) => v.instanceId)).toEqual([instances[10]?.instanceId, instances[11]?.instanceId]);
    expect(capped[0]?.reason).toContain('limit of 10 stops');
    expect(capped[0]?.estimatedMonthlySavingUsd).toBe(0);
  });

  it('breaks ties in the cap by instance id', () => {
    // Arrange: identical metrics, given in reverse order
    const instances = ['i-c', 'i-a', 'i-b'].map((instanceId) => makeInstance({ instanceId }));

    // Act
    const verdicts = runFleet(instances, quietMetrics(['i-a', 'i-b', 'i-c']), 'opt-in', 1);

    // Assert: one verdict per instance, in input order
    expect(verdicts.map((v) => [v.instanceId, v.decision])).toEqual([
      ['i-c', 'capped'],
      ['i-a', 'stop'],
      ['i-b', 'capped'],
    ]);
  });
});

describe('savings', () => {
  it('prices a known type from the on-demand table', () => {
    // Act + Assert: 0.0832 $/h x 730 h
    expect(estimateMonthlySavingUsd('t3.large')).toBeCloseTo(60.74, 2);
  });

  it('says unknown for a type outside the table', () => {
    // Act + Assert
    expect(estimateMonthlySavingUsd('p5.48xlarge')).toBe('unknown');
    expect(estimateMonthlySavingUsd('constructor')).toBe('unknown');
  });

  it('covers the common families', () => {
    // Assert
    for (const type of ['t3.nano', 't3a.2xlarge', 't4g.medium', 'm6i.4xlarge', 'c7g.large', 'r6i.2xlarge']) {
      expect(onDemandMonthlyUsd[type]).toBeGreaterThan(0);
    }
    expect(Object.keys(onDemandMonthlyUsd).length).toBeGreaterThanOrEqual(40);
  });

  it('sums the saving of the stops and lists the unpriced ones', () => {
    // Arrange
    const priced = makeInstance({ instanceId: 'i-priced', instanceType: 'm5.large' });
    const unpriced = makeInstance({ instanceId: 'i-unpriced', instanceType: 'x2idn.metal' });
    const busy = makeInstance({ instanceId: 'i-busy', instanceType: 'm5.large' });
    const metrics = quietMetrics(['i-priced', 'i-unpriced', 'i-busy']);
    metrics.cpu['i-busy'] = hourly(24, 60);
    const verdicts = runFleet([priced, unpriced, busy], metrics);

    // Act
    const summary = summarizeSavings(verdicts);

    // Assert
    expect(verdicts.find((v) => v.instanceId === 'i-unpriced')?.estimatedMonthlySavingUsd).toBe('unknown');
    expect(summary).toMatchObject({
      considered: 3,
      stopped: 2,
      spared: 1,
      excluded: 0,
      capped: 0,
      estimatedMonthlySavingUsd: onDemandMonthlyUsd['m5.large'],
      unpricedStops: ['i-unpriced'],
    });
  });
});
