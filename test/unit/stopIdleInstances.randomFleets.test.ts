import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstanceFacts, Scope } from '#shared/idle/exclusions.ts';
import { decideFleet } from '#shared/idle/fleet.ts';
import type { HourlySeries } from '#shared/idle/idleness.ts';
import { MB, policy, WINDOW_START } from '../support/idleVerdict.ts';

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
