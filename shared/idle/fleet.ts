// The plan step of stopIdleInstances over a whole fleet: one verdict per instance, the idle ones ranked
// quietest first under the hourly stop limit, and the savings summary. Pure: no AWS SDK, no environment.

import { decimalBytes, plainNumber } from '#shared/domain/format.ts';
import {
  type Exclusion,
  exclusionReason,
  type InstanceFacts,
  type Scope,
  screenInstance,
} from './exclusions.ts';
import {
  type CpuEvidence,
  EMPTY_SERIES,
  type HourlySeries,
  type IdleEvidence,
  type IdlePolicy,
  type IdleStatus,
  judgeCpu,
  judgeNetwork,
  type NetworkEvidence,
} from './idleness.ts';
import { estimateMonthlySavingUsd, roundCents } from './pricing.ts';

export type IdleDecision = 'stop' | 'spare' | 'excluded' | 'capped';

export interface IdleVerdict {
  instanceId: string;
  instanceType: string;
  decision: IdleDecision;
  /** A sentence a person reads, with numbers */
  reason: string;
  exclusion?: Exclusion;
  status?: IdleStatus;
  evidence?: IdleEvidence;
  /** What this decision saves a month: the on-demand price for 'stop', 0 for everything else. */
  estimatedMonthlySavingUsd: number | 'unknown';
}

export interface FleetInput {
  instances: InstanceFacts[];
  cpu: Map<string, HourlySeries>;
  netIn: Map<string, HourlySeries>;
  netOut: Map<string, HourlySeries>;
  /** Instances whose metrics could not be read, with why: spared as no-data. */
  unreadable?: ReadonlyMap<string, string>;
  policy: IdlePolicy;
  scope: Scope;
  /** Stops allowed in any rolling hour, across runs */
  maxStopsPerHour: number;
  /** Stops other runs already made in the rolling hour: this run may make only the rest. */
  stopsInLastHour?: number;
  /** The region the instances run in, which prices their savings (the price table's region by default). */
  region?: string;
}

const formatNumber = plainNumber;
const formatBytes = (bytes: number): string => decimalBytes(bytes, 2);
const percent = (share: number): string => `${formatNumber(share * 100)} %`;

function idleSentence(cpu: CpuEvidence, net: NetworkEvidence, policy: IdlePolicy): string {
  return (
    `Idle over ${cpu.hoursExpected} h: hourly CPU max ${formatNumber(cpu.maxCpuPercent ?? 0)} % ` +
    `(threshold ${formatNumber(policy.cpuThresholdPercent)} %), network max ` +
    `${formatBytes(net.maxNetworkBytesPerHour ?? 0)}/h (threshold ${formatBytes(policy.networkThresholdBytesPerHour)}/h), ` +
    `${cpu.cpuHoursCovered} of ${cpu.hoursExpected} hours measured.`
  );
}

interface IdleCandidate {
  index: number;
  instance: InstanceFacts;
  cpu: CpuEvidence;
  net: NetworkEvidence;
  evidence: IdleEvidence;
}

// Quietest first, so when the cap bites the clearest cases are the ones stopped; instanceId keeps it stable.
function byQuietest(a: IdleCandidate, b: IdleCandidate): number {
  const cpu = (a.cpu.maxCpuPercent ?? 0) - (b.cpu.maxCpuPercent ?? 0);
  if (cpu !== 0) return cpu;
  const net = (a.net.maxNetworkBytesPerHour ?? 0) - (b.net.maxNetworkBytesPerHour ?? 0);
  if (net !== 0) return net;
  if (a.instance.instanceId !== b.instance.instanceId)
    return a.instance.instanceId < b.instance.instanceId ? -1 : 1;
  return a.index - b.index;
}

function cpuReason(status: 'busy-cpu' | 'not-enough-data', cpu: CpuEvidence, policy: IdlePolicy): string {
  if (status === 'busy-cpu') {
    return (
      `Busy: an hourly CPU maximum reached ${formatNumber(cpu.maxCpuPercent ?? 0)} % ` +
      `(threshold ${formatNumber(policy.cpuThresholdPercent)} %).`
    );
  }
  return (
    `Not enough data: CPU datapoints for ${cpu.cpuHoursCovered} of ${cpu.hoursExpected} hours ` +
    `(${cpu.hoursRequired} needed, ${percent(policy.minCoverage)}); not stopped for what cannot be measured.`
  );
}

function networkReason(
  status: 'busy-network' | 'not-enough-data',
  cpu: CpuEvidence,
  net: NetworkEvidence,
  policy: IdlePolicy,
): string {
  const cpuPart = `CPU idle (max ${formatNumber(cpu.maxCpuPercent ?? 0)} %) but `;
  if (status === 'busy-network') {
    return (
      `${cpuPart}network in+out reached ${formatBytes(net.maxNetworkBytesPerHour ?? 0)} in an hour ` +
      `(threshold ${formatBytes(policy.networkThresholdBytesPerHour)}/h).`
    );
  }
  return (
    `${cpuPart}not enough network data: ${net.networkHoursCovered} of ${net.hoursExpected} hours ` +
    `measured in and out (${net.hoursRequired} needed); not stopped for what cannot be measured.`
  );
}

/** One verdict per input instance, in input order. */
export function decideFleet(input: FleetInput): IdleVerdict[] {
  const { policy, scope } = input;
  const limit = Number.isFinite(input.maxStopsPerHour) ? Math.max(0, Math.floor(input.maxStopsPerHour)) : 0;
  const used = Math.max(0, Math.floor(input.stopsInLastHour ?? 0));
  const maxStops = Math.max(0, limit - used);
  const verdicts: IdleVerdict[] = [];
  const candidates: IdleCandidate[] = [];

  input.instances.forEach((instance, index) => {
    const { instanceId, instanceType } = instance;
    const base = { instanceId, instanceType, estimatedMonthlySavingUsd: 0 };
    const exclusion = screenInstance(instance, scope);
    if (exclusion) {
      verdicts[index] = {
        ...base,
        decision: 'excluded',
        exclusion,
        reason: exclusionReason(instance, exclusion, scope),
      };
      return;
    }

    const unreadable = input.unreadable?.get(instanceId);
    if (unreadable !== undefined) {
      verdicts[index] = {
        ...base,
        decision: 'spare',
        status: 'no-data',
        reason: `No data (metrics unavailable): ${unreadable}; not stopped for what could not be read.`,
      };
      return;
    }

    const cpuJudgement = judgeCpu(input.cpu.get(instanceId) ?? EMPTY_SERIES, policy);
    const cpu = cpuJudgement.evidence;
    if (cpuJudgement.status !== 'cpu-idle') {
      verdicts[index] = {
        ...base,
        decision: 'spare',
        status: cpuJudgement.status,
        evidence: {
          maxCpuPercent: cpu.maxCpuPercent,
          maxNetworkBytesPerHour: null,
          cpuCoverage: cpu.cpuCoverage,
          networkCoverage: null,
          hoursExpected: cpu.hoursExpected,
          cpuHoursCovered: cpu.cpuHoursCovered,
          networkHoursCovered: null,
        },
        reason: cpuReason(cpuJudgement.status, cpu, policy),
      };
      return;
    }

    const netJudgement = judgeNetwork(
      input.netIn.get(instanceId) ?? EMPTY_SERIES,
      input.netOut.get(instanceId) ?? EMPTY_SERIES,
      policy,
    );
    const net = netJudgement.evidence;
    const evidence: IdleEvidence = {
      maxCpuPercent: cpu.maxCpuPercent,
      maxNetworkBytesPerHour: net.maxNetworkBytesPerHour,
      cpuCoverage: cpu.cpuCoverage,
      networkCoverage: net.networkCoverage,
      hoursExpected: cpu.hoursExpected,
      cpuHoursCovered: cpu.cpuHoursCovered,
      networkHoursCovered: net.networkHoursCovered,
    };
    if (netJudgement.status !== 'network-idle') {
      verdicts[index] = {
        ...base,
        decision: 'spare',
        status: netJudgement.status,
        evidence,
        reason: networkReason(netJudgement.status, cpu, net, policy),
      };
      return;
    }
    candidates.push({ index, instance, cpu, net, evidence });
  });

  const ranked = [...candidates].sort(byQuietest);
  ranked.forEach((c, rank) => {
    const { instanceId, instanceType } = c.instance;
    const idle = idleSentence(c.cpu, c.net, policy);
    const base = { instanceId, instanceType, status: 'idle' as const, evidence: c.evidence };
    verdicts[c.index] =
      rank < maxStops
        ? {
            ...base,
            decision: 'stop',
            reason: idle,
            estimatedMonthlySavingUsd: estimateMonthlySavingUsd(instanceType, input.region),
          }
        : {
            ...base,
            decision: 'capped',
            reason:
              `${idle} Not stopped: the limit of ${limit} stops per rolling hour was reached ` +
              `(${used} already in the last hour; idle candidate ${rank + 1} of ${ranked.length}).`,
            estimatedMonthlySavingUsd: 0,
          };
  });

  return verdicts;
}

/** Quietest first, as the cap ranks them: when fewer stops are granted than planned, these go first. */
export function quietestFirst(a: IdleVerdict, b: IdleVerdict): number {
  const cpu = (a.evidence?.maxCpuPercent ?? 0) - (b.evidence?.maxCpuPercent ?? 0);
  if (cpu !== 0) return cpu;
  const net = (a.evidence?.maxNetworkBytesPerHour ?? 0) - (b.evidence?.maxNetworkBytesPerHour ?? 0);
  if (net !== 0) return net;
  return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
}

export interface SavingsSummary {
  considered: number;
  stopped: number;
  capped: number;
  spared: number;
  excluded: number;
  /** Sum over 'stop' verdicts with a known price */
  estimatedMonthlySavingUsd: number;
  /** 'stop' verdicts whose type is not in the price table, so the sum above leaves them out */
  unpricedStops: string[];
  /** What the capped instances would have saved (known prices only) */
  cappedMonthlySavingUsd: number;
}

/** `region` prices the capped instances as the stops were priced (the table's region by default). */
export function summarizeSavings(verdicts: readonly IdleVerdict[], region?: string): SavingsSummary {
  const summary: SavingsSummary = {
    considered: verdicts.length,
    stopped: 0,
    capped: 0,
    spared: 0,
    excluded: 0,
    estimatedMonthlySavingUsd: 0,
    unpricedStops: [],
    cappedMonthlySavingUsd: 0,
  };
  for (const v of verdicts) {
    if (v.decision === 'stop') {
      summary.stopped++;
      if (v.estimatedMonthlySavingUsd === 'unknown') summary.unpricedStops.push(v.instanceId);
      else summary.estimatedMonthlySavingUsd += v.estimatedMonthlySavingUsd;
    } else if (v.decision === 'capped') {
      summary.capped++;
      const potential = estimateMonthlySavingUsd(v.instanceType, region);
      if (potential !== 'unknown') summary.cappedMonthlySavingUsd += potential;
    } else if (v.decision === 'spare') {
      summary.spared++;
    } else {
      summary.excluded++;
    }
  }
  summary.estimatedMonthlySavingUsd = roundCents(summary.estimatedMonthlySavingUsd);
  summary.cappedMonthlySavingUsd = roundCents(summary.cappedMonthlySavingUsd);
  return summary;
}
