import { planIdleScan } from '#functions/stopIdleInstances/plan.ts';
import { IdleScanEvent } from '#functions/stopIdleInstances/schema.ts';
import { type IdleRun, resolveIdleRun, type StageForRun } from '#functions/stopIdleInstances/settings.ts';
import { idleScanSignal } from '#functions/stopIdleInstances/signal.ts';
import type { InstanceFacts } from '#shared/idle/exclusions.ts';
import type { IdleScanGathered, ScanStats } from '#shared/idle/gather.ts';
import type { HourlySeries } from '#shared/idle/idleness.ts';
import { IdleStopSettings } from '#shared/idle/stageSettings.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from './config.ts';

// Builders shared by the idle scan's schema and planning tests (test/unit/stopIdleInstances.eventSchema, plan).

export const END = Date.UTC(2025, 5, 21, 10) / 1000;

export function hourly(value: number, hours = 24): HourlySeries {
  const timestamps = Array.from({ length: hours }, (_, k) => END - (k + 1) * 3600);
  return { timestamps, values: timestamps.map(() => value) };
}

export const stage = (dryRun: boolean, idleStop: Record<string, unknown> = {}): StageForRun => ({
  dryRun,
  idleStop: IdleStopSettings.parse(idleStop),
});

export function runFor(payload: unknown, s: StageForRun = stage(false)): IdleRun {
  const resolved = resolveIdleRun(IdleScanEvent.parse(payload), s);
  if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
  return resolved.run;
}

export const scheduled = () => loadFixture('stopIdleInstances/scheduled-event.json');

/** The signal of a run, invoked as `req-1` in account 111122223333, eu-west-1. */
export function signalOf(payload: unknown = scheduled(), run = runFor(payload)) {
  return idleScanSignal(IdleScanEvent.parse(payload), run, {
    requestId: 'req-1',
    account: '111122223333',
    region: 'eu-west-1',
  });
}

export const instance = (instanceId: string, extra: Partial<InstanceFacts> = {}): InstanceFacts => ({
  instanceId,
  instanceType: 't3.large',
  state: 'running',
  tags: { 'ops:auto-stop': 'true' },
  rootDeviceType: 'ebs',
  ...extra,
});

export const stats: ScanStats = {
  describePages: 1,
  instancesRunning: 0,
  instancesInScope: 0,
  cpuIdleCandidates: 0,
  metricCalls: 2,
  metricsRequested: 7,
  describePagesFailed: 0,
  metricPagesFailed: 0,
  instancesUnreadable: 0,
};

export interface Box {
  facts: InstanceFacts;
  cpu?: number;
  network?: number;
}

export function gathered(boxes: Box[], run: IdleRun, stopsInLastHour = 0): IdleScanGathered {
  const series = (pick: (b: Box) => number | undefined) =>
    new Map(
      boxes.flatMap((b) => {
        const v = pick(b);
        return v === undefined ? [] : [[b.facts.instanceId, hourly(v)] as const];
      }),
    );
  return {
    instances: boxes.map((b) => b.facts),
    cpu: series((b) => b.cpu),
    netIn: series((b) => b.network),
    netOut: series((b) => b.network),
    unreadable: new Map(),
    window: { start: new Date((END - 86_400) * 1000).toISOString(), end: new Date(END * 1000).toISOString() },
    scanStats: stats,
    budget: {
      limit: run.maxStopsPerHour,
      usedInLastHour: stopsInLastHour,
      remaining: Math.max(0, run.maxStopsPerHour - stopsInLastHour),
    },
  };
}

export function plan(boxes: Box[], run = runFor(scheduled()), stopsInLastHour = 0) {
  return planIdleScan({
    signal: signalOf(scheduled(), run),
    facts: run,
    gathered: gathered(boxes, run, stopsInLastHour),
    // As the runtime runs it: a live run has a live config (a dry config would plan it dry).
    config: makeConfig({ dryRun: run.dryRun }),
  });
}

export const idleBox = (id: string, extra: Partial<InstanceFacts> = {}, cpu = 1): Box => ({
  facts: instance(id, extra),
  cpu,
  network: 10_000,
});
