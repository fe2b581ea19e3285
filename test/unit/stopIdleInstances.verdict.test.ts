import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Exclusion, type InstanceFacts, type Scope, screenInstance } from '#shared/idle/exclusions.ts';
import { decideFleet, summarizeSavings } from '#shared/idle/fleet.ts';
import { type HourlySeries, type IdlePolicy, judgeCpu, judgeNetwork } from '#shared/idle/idleness.ts';
import { estimateMonthlySavingUsd, onDemandMonthlyUsd } from '#shared/idle/pricing.ts';

// 2026-01-01T00:00:00Z, an hour boundary, so hour k starts at WINDOW_START + k * 3600.
const WINDOW_START = 1_767_225_600;
const MB = 1_000_000;

const policy: IdlePolicy = {
  lookbackHours: 24,
  cpuThresholdPercent: 5,
  networkThresholdBytesPerHour: 10 * MB,
  minCoverage: 0.9,
};

function makeInstance(overrides: Partial<InstanceFacts> = {}): InstanceFacts {
  return {
    instanceId: 'i-0idle00000000001',
    instanceType: 't3.large',
    state: 'running',
    tags: { Name: 'reporting-box', 'ops:auto-stop': 'true' },
    rootDeviceType: 'ebs',
    stopProtection: false,
    launchTime: '2025-11-02T08:00:00Z',
    ...overrides,
  };
}

/** n consecutive hourly datapoints of the same value, starting at hour `fromHour` of the window. */
function hourly(n: number, value: number, fromHour = 0): HourlySeries {
  return {
    timestamps: Array.from({ length: n }, (_, k) => WINDOW_START + (fromHour + k) * 3600),
    values: Array.from({ length: n }, () => value),
  };
}

/** One datapoint per given value, hour k holding values[k]. */
function hourlyValues(values: number[]): HourlySeries {
  return { timestamps: values.map((_, k) => WINDOW_START + k * 3600), values };
}

interface FleetMetrics {
  cpu?: Record<string, HourlySeries>;
  netIn?: Record<string, HourlySeries>;
  netOut?: Record<string, HourlySeries>;
}

function runFleet(
  instances: InstanceFacts[],
  metrics: FleetMetrics,
  scope: Scope = 'opt-in',
  maxStopsPerHour = 10,
) {
  return decideFleet({
    instances,
    cpu: new Map(Object.entries(metrics.cpu ?? {})),
    netIn: new Map(Object.entries(metrics.netIn ?? {})),
    netOut: new Map(Object.entries(metrics.netOut ?? {})),
    policy,
    scope,
    maxStopsPerHour,
  });
}

/** Metrics of a fully measured, quiet instance: 1 % CPU, 1 MB in and out every hour. */
function quietMetrics(instanceIds: string[]): Required<FleetMetrics> {
  return {
    cpu: Object.fromEntries(instanceIds.map((id) => [id, hourly(24, 1)])),
    netIn: Object.fromEntries(instanceIds.map((id) => [id, hourly(24, MB)])),
    netOut: Object.fromEntries(instanceIds.map((id) => [id, hourly(24, MB)])),
  };
}

describe('screenInstance', () => {
  it.each<[string, Record<string, string>, Exclusion]>([
    ['an Auto Scaling group member', { 'aws:autoscaling:groupName': 'web-asg' }, 'auto-scaling-member'],
    ['an EKS node by eks:cluster-name', { 'eks:cluster-name': 'prod' }, 'eks-managed'],
    ['an EKS managed node group node', { 'eks:nodegroup-name': 'general' }, 'eks-managed'],
    [
      'a Kubernetes node by kubernetes.io/cluster/<name>',
      { 'kubernetes.io/cluster/prod': 'owned' },
      'eks-managed',
    ],
    ['an ECS capacity provider instance', { AmazonECSManaged: 'true' }, 'ecs-managed'],
    ['an ECS container instance by aws:ecs:clusterName', { 'aws:ecs:clusterName': 'api' }, 'ecs-managed'],
    [
      'a Karpenter node by karpenter.sh/nodepool',
      { 'karpenter.sh/nodepool': 'default' },
      'karpenter-managed',
    ],
    [
      'a Karpenter node by karpenter.sh/provisioner-name',
      { 'karpenter.sh/provisioner-name': 'x' },
      'karpenter-managed',
    ],
    [
      'a Karpenter node by its EC2NodeClass',
      { 'karpenter.k8s.aws/ec2nodeclass': 'default' },
      'karpenter-managed',
    ],
    [
      'a Karpenter node by any karpenter.sh/ key',
      { 'karpenter.sh/nodeclaim': 'default-abc12' },
      'karpenter-managed',
    ],
    ['an EMR node by job flow id', { 'aws:elasticmapreduce:job-flow-id': 'j-2AXXXXXXGAPLF' }, 'emr-managed'],
    [
      'an EMR node by instance group role',
      { 'aws:elasticmapreduce:instance-group-role': 'CORE' },
      'emr-managed',
    ],
    ['a Batch compute environment instance', { 'aws:batch:compute-environment': 'nightly' }, 'batch-managed'],
  ])('excludes %s whatever ops:auto-stop says', (_name, managedTags, expected) => {
    // Arrange: opted in explicitly, which must not override the owner
    const instance = makeInstance({ tags: { 'ops:auto-stop': 'true', ...managedTags } });

    // Act + Assert: in both scopes
    expect(screenInstance(instance, 'opt-in')).toBe(expected);
    expect(screenInstance(instance, 'opt-out')).toBe(expected);
  });

  it('names the most specific owner when an instance carries several managed-by tags', () => {
    // Arrange: an EKS managed node group node is also an Auto Scaling member
    const instance = makeInstance({
      tags: { 'aws:autoscaling:groupName': 'eks-general-1a', 'eks:nodegroup-name': 'general' },
    });

    // Act
    const exclusion = screenInstance(instance, 'opt-out');

    // Assert
    expect(exclusion).toBe('eks-managed');
  });

  it('matches managed-by tag keys whatever their case', () => {
    // Arrange
    const instance = makeInstance({ tags: { 'AWS:AutoScaling:GroupName': 'web-asg' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-out')).toBe('auto-scaling-member');
  });

  it.each<[string, Partial<InstanceFacts>, Exclusion]>([
    ['a stopped instance', { state: 'stopped' }, 'not-running'],
    ['a pending instance', { state: 'pending' }, 'not-running'],
    ['a Spot instance', { lifecycle: 'spot' }, 'spot'],
    ['an instance-store root', { rootDeviceType: 'instance-store' }, 'instance-store-root'],
    ['an instance with stop protection', { stopProtection: true }, 'stop-protection'],
  ])('excludes %s even when opted in', (_name, overrides, expected) => {
    // Arrange
    const instance = makeInstance({ tags: { 'ops:auto-stop': 'true' }, ...overrides });

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBe(expected);
    expect(screenInstance(instance, 'opt-out')).toBe(expected);
  });

  it('checks the running state before anything else', () => {
    // Arrange: stopped, and also managed and Spot
    const instance = makeInstance({ state: 'stopped', lifecycle: 'spot', tags: { AmazonECSManaged: '' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-out')).toBe('not-running');
  });

  it.each<Scope>(['opt-in', 'opt-out'])(
    'keeps an instance tagged ops:auto-stop=false out in %s scope',
    (scope) => {
      // Arrange
      const instance = makeInstance({ tags: { 'ops:auto-stop': 'false' } });

      // Act + Assert
      expect(screenInstance(instance, scope)).toBe('opted-out');
    },
  );

  it('honours an opt-out written in another case', () => {
    // Arrange
    const instance = makeInstance({ tags: { 'ops:auto-stop': ' False ' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-out')).toBe('opted-out');
  });

  it('leaves an untagged instance out in opt-in scope', () => {
    // Arrange
    const instance = makeInstance({ tags: { Name: 'build-box' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBe('not-opted-in');
  });

  it('needs exactly ops:auto-stop=true to opt in, as the IAM tag condition does', () => {
    // Arrange
    const instance = makeInstance({ tags: { 'ops:auto-stop': 'TRUE' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBe('not-opted-in');
  });

  it('takes untagged and oddly tagged instances in opt-out scope', () => {
    // Arrange
    const untagged = makeInstance({ tags: {} });
    const odd = makeInstance({ tags: { 'ops:auto-stop': 'maybe' } });

    // Act + Assert
    expect(screenInstance(untagged, 'opt-out')).toBeUndefined();
    expect(screenInstance(odd, 'opt-out')).toBeUndefined();
  });

  it('takes an on-demand EBS-backed instance tagged ops:auto-stop=true in opt-in scope', () => {
    // Arrange
    const instance = makeInstance();

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBeUndefined();
  });
});

describe('judgeCpu', () => {
  it('reports not enough data with 21 of 24 hours measured, however quiet they are', () => {
    // Arrange
    const cpu = hourly(21, 0.5);

    // Act
    const { status, evidence } = judgeCpu(cpu, policy);

    // Assert
    expect(status).toBe('not-enough-data');
    expect(evidence.cpuHoursCovered).toBe(21);
    expect(evidence.cpuCoverage).toBeCloseTo(0.875);
  });

  it('judges an instance with 22 of 24 hours measured', () => {
    // Arrange
    const cpu = hourly(22, 0.5, 2);

    // Act
    const { status, evidence } = judgeCpu(cpu, policy);

    // Assert
    expect(status).toBe('cpu-idle');
    expect(evidence.maxCpuPercent).toBe(0.5);
  });

  it('counts distinct hours, not datapoints', () => {
    // Arrange: 24 datapoints squeezed into 12 hours
    const first = hourly(12, 1);
    const cpu = {
      timestamps: [...first.timestamps, ...first.timestamps],
      values: [...first.values, ...first.values],
    };

    // Act + Assert
    expect(judgeCpu(cpu, policy).status).toBe('not-enough-data');
  });

  it('treats a CPU maximum exactly at the threshold as busy', () => {
    // Arrange: one hour at 5 %, the rest at 1 %
    const cpu = hourlyValues([...Array.from({ length: 23 }, () => 1), 5]);

    // Act + Assert
    expect(judgeCpu(cpu, policy).status).toBe('busy-cpu');
  });

  it('reports busy when a measured hour is busy even if hours are missing', () => {
    // Arrange
    const cpu = hourlyValues([80, 1, 1]);

    // Act + Assert
    expect(judgeCpu(cpu, policy).status).toBe('busy-cpu');
  });

  it('reports not enough data when no datapoint exists', () => {
    // Act
    const { status, evidence } = judgeCpu({ timestamps: [], values: [] }, policy);

    // Assert
    expect(status).toBe('not-enough-data');
    expect(evidence.maxCpuPercent).toBeNull();
  });
});

describe('judgeNetwork', () => {
  it('sums in and out by hour against the threshold', () => {
    // Arrange: 6 MB in + 5 MB out in hour 3 is 11 MB, over 10 MB; each alone is under
    const netIn = hourlyValues(Array.from({ length: 24 }, (_, k) => (k === 3 ? 6 * MB : MB)));
    const netOut = hourlyValues(Array.from({ length: 24 }, (_, k) => (k === 3 ? 5 * MB : MB)));

    // Act
    const { status, evidence } = judgeNetwork(netIn, netOut, policy);

    // Assert
    expect(status).toBe('busy-network');
    expect(evidence.maxNetworkBytesPerHour).toBe(11 * MB);
  });

  it('finds quiet traffic idle', () => {
    // Act
    const { status } = judgeNetwork(hourly(24, MB), hourly(24, MB), policy);

    // Assert
    expect(status).toBe('network-idle');
  });

  it('applies the coverage rule to network too', () => {
    // Arrange: out measured for only 20 hours
    const netIn = hourly(24, MB);
    const netOut = hourly(20, MB);

    // Act
    const { status, evidence } = judgeNetwork(netIn, netOut, policy);

    // Assert
    expect(status).toBe('not-enough-data');
    expect(evidence.networkHoursCovered).toBe(20);
  });
});

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

describe('decideFleet over random fleets', () => {
  const MANAGED_TAG_KEYS = [
    'aws:autoscaling:groupName',
    'eks:cluster-name',
    'eks:nodegroup-name',
    'kubernetes.io/cluster/prod',
    'AmazonECSManaged',
    'aws:ecs:clusterName',
    'karpenter.sh/nodepool',
    'karpenter.sh/provisioner-name',
    'karpenter.k8s.aws/ec2nodeclass',
    'aws:elasticmapreduce:job-flow-id',
    'aws:elasticmapreduce:instance-group-role',
    'aws:batch:compute-environment',
  ];
  const hoursNeeded = Math.ceil(policy.minCoverage * policy.lookbackHours);

  // Biased towards near-full coverage and quiet values, so that stops and the cap are reached often and the
  // 90 % boundary (22 of 24 hours) is crossed both ways.
  const ALL_HOURS = Array.from({ length: 24 }, (_, k) => k);
  const hoursArb = fc.oneof(
    { weight: 3, arbitrary: fc.subarray(ALL_HOURS, { minLength: 20 }) },
    { weight: 1, arbitrary: fc.subarray(ALL_HOURS) },
  );
  const valueArb = (max: number, quiet: boolean) =>
    quiet
      ? fc.double({ min: 0, max: max / 5, noNaN: true })
      : fc.oneof(fc.double({ min: 0, max, noNaN: true }), fc.constant(max / 2), fc.constant(max));
  // A metric usually shares the instance's measured hours (as real CloudWatch gaps do), sometimes has its own.
  const seriesSpec = (max: number) =>
    fc.option(
      fc.record({
        hours: fc.oneof(
          { weight: 3, arbitrary: fc.constant<'shared'>('shared') },
          { weight: 1, arbitrary: hoursArb },
        ),
        values: fc
          .boolean()
          .chain((quiet) => fc.array(valueArb(max, quiet), { minLength: 24, maxLength: 24 })),
      }),
      { nil: undefined, freq: 8 },
    );
  type SeriesSpec = { hours: 'shared' | number[]; values: number[] } | undefined;
  const toSeries = (spec: SeriesSpec, shared: number[]): HourlySeries | undefined => {
    if (spec === undefined) return undefined;
    const hours = spec.hours === 'shared' ? shared : spec.hours;
    return {
      timestamps: hours.map((h) => WINDOW_START + h * 3600),
      values: hours.map((h) => spec.values[h] ?? 0),
    };
  };

  // The stoppable value four times in five, so enough instances reach the idle check and the cap.
  const mostly = <T, R>(common: T, ...rare: R[]) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(common) },
      { weight: 1, arbitrary: fc.constantFrom(...rare) },
    );

  const instanceArb = fc.record({
    managedTags: fc.oneof(
      { weight: 3, arbitrary: fc.constant<string[]>([]) },
      { weight: 1, arbitrary: fc.subarray(MANAGED_TAG_KEYS, { minLength: 1, maxLength: 2 }) },
    ),
    autoStop: mostly('true', undefined, 'false', 'False', 'TRUE', 'maybe', ''),
    otherTags: fc.dictionary(fc.constantFrom('Name', 'team', 'env'), fc.string({ maxLength: 8 })),
    lifecycle: mostly(undefined, 'spot', 'scheduled', 'capacity-block'),
    rootDeviceType: mostly('ebs', 'instance-store'),
    state: mostly('running', 'stopped', 'pending', 'stopping'),
    stopProtection: mostly(undefined, true, false),
    instanceType: fc.constantFrom('t3.micro', 'm5.large', 'c7g.xlarge', 'z1d.large'),
    hours: hoursArb,
    cpu: seriesSpec(10),
    netIn: seriesSpec(10 * MB),
    netOut: seriesSpec(10 * MB),
  });

  it('never stops an excluded or opted-out instance, never exceeds the cap, never stops the unmeasured', () => {
    let stops = 0;
    let capped = 0;
    fc.assert(
      fc.property(
        fc.array(instanceArb, { maxLength: 30, size: 'max' }),
        fc.constantFrom<Scope>('opt-in', 'opt-out'),
        fc.integer({ min: 0, max: 12 }),
        (rows, scope, maxStopsPerHour) => {
          // Arrange
          const instances: InstanceFacts[] = rows.map((row, k) => ({
            instanceId: `i-${String(k).padStart(17, '0')}`,
            instanceType: row.instanceType,
            state: row.state,
            tags: {
              ...row.otherTags,
              ...Object.fromEntries(row.managedTags.map((key) => [key, 'x'])),
              ...(row.autoStop === undefined ? {} : { 'ops:auto-stop': row.autoStop }),
            },
            rootDeviceType: row.rootDeviceType,
            ...(row.lifecycle === undefined ? {} : { lifecycle: row.lifecycle }),
            ...(row.stopProtection === undefined ? {} : { stopProtection: row.stopProtection }),
          }));
          const measured = rows.map((row) => ({
            cpu: toSeries(row.cpu, row.hours),
            netIn: toSeries(row.netIn, row.hours),
            netOut: toSeries(row.netOut, row.hours),
          }));
          const pick = (key: 'cpu' | 'netIn' | 'netOut') =>
            new Map(
              measured.flatMap((m, k) => {
                const s = m[key];
                const id = instances[k]?.instanceId;
                return s === undefined || id === undefined ? [] : [[id, s] as const];
              }),
            );

          // Act
          const verdicts = decideFleet({
            instances,
            cpu: pick('cpu'),
            netIn: pick('netIn'),
            netOut: pick('netOut'),
            policy,
            scope,
            maxStopsPerHour,
          });

          // Assert: exactly one verdict per instance
          expect(verdicts.map((v) => v.instanceId)).toEqual(instances.map((i) => i.instanceId));

          // Assert: the cap holds
          const stopCount = verdicts.filter((v) => v.decision === 'stop').length;
          expect(stopCount).toBeLessThanOrEqual(maxStopsPerHour);
          stops += stopCount;
          capped += verdicts.filter((v) => v.decision === 'capped').length;

          verdicts.forEach((verdict, k) => {
            const row = rows[k];
            const m = measured[k];
            if (row === undefined || m === undefined || verdict.decision !== 'stop') return;
            // Assert: nothing that must be left alone is stopped (an oracle independent of screenInstance)
            expect(row.state).toBe('running');
            expect(row.managedTags).toEqual([]);
            expect(row.lifecycle).not.toBe('spot');
            expect(row.rootDeviceType).toBe('ebs');
            expect(row.stopProtection).not.toBe(true);
            expect(row.autoStop?.trim().toLowerCase()).not.toBe('false');
            if (scope === 'opt-in') expect(row.autoStop).toBe('true');
            // Assert: the unmeasured and the busy are never stopped
            expect(m.cpu?.timestamps.length ?? 0).toBeGreaterThanOrEqual(hoursNeeded);
            expect(Math.max(...(m.cpu?.values ?? [Number.POSITIVE_INFINITY]))).toBeLessThan(
              policy.cpuThresholdPercent,
            );
            const inHours = new Set(m.netIn?.timestamps ?? []);
            const bothWays = (m.netOut?.timestamps ?? []).filter((t) => inHours.has(t));
            expect(bothWays.length).toBeGreaterThanOrEqual(hoursNeeded);
            const perHour = new Map<number, number>();
            for (const s of [m.netIn, m.netOut]) {
              s?.timestamps.forEach((t, j) => {
                perHour.set(t, (perHour.get(t) ?? 0) + (s.values[j] ?? 0));
              });
            }
            expect(Math.max(...perHour.values())).toBeLessThan(policy.networkThresholdBytesPerHour);
          });
        },
      ),
      { numRuns: 1000 },
    );

    // Assert: the generated fleets really exercise stops and the cap, so the checks above are not vacuous
    expect(stops).toBeGreaterThan(0);
    expect(capped).toBeGreaterThan(0);
  });
});
