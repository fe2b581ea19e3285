import type { InstanceFacts, Scope } from '#shared/idle/exclusions.ts';
import { decideFleet } from '#shared/idle/fleet.ts';
import type { HourlySeries, IdlePolicy } from '#shared/idle/idleness.ts';

// Builders shared by the idle verdict tests (test/unit/stopIdleInstances.*Verdict, fleetDecision, randomFleets): one policy, instances and hourly series.

// 2026-01-01T00:00:00Z, an hour boundary, so hour k starts at WINDOW_START + k * 3600.
export const WINDOW_START = 1_767_225_600;
export const MB = 1_000_000;

export const policy: IdlePolicy = {
  lookbackHours: 24,
  cpuThresholdPercent: 5,
  networkThresholdBytesPerHour: 10 * MB,
  minCoverage: 0.9,
};

export function makeInstance(overrides: Partial<InstanceFacts> = {}): InstanceFacts {
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
export function hourly(n: number, value: number, fromHour = 0): HourlySeries {
  return {
    timestamps: Array.from({ length: n }, (_, k) => WINDOW_START + (fromHour + k) * 3600),
    values: Array.from({ length: n }, () => value),
  };
}

/** One datapoint per given value, hour k holding values[k]. */
export function hourlyValues(values: number[]): HourlySeries {
  return { timestamps: values.map((_, k) => WINDOW_START + k * 3600), values };
}

export interface FleetMetrics {
  cpu?: Record<string, HourlySeries>;
  netIn?: Record<string, HourlySeries>;
  netOut?: Record<string, HourlySeries>;
}

export function runFleet(
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
export function quietMetrics(instanceIds: string[]): Required<FleetMetrics> {
  return {
    cpu: Object.fromEntries(instanceIds.map((id) => [id, hourly(24, 1)])),
    netIn: Object.fromEntries(instanceIds.map((id) => [id, hourly(24, MB)])),
    netOut: Object.fromEntries(instanceIds.map((id) => [id, hourly(24, MB)])),
  };
}
