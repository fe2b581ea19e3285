// The plan step of stopIdleInstances: pure judgement over facts already gathered.
// No AWS SDK and no environment here, so every rule is testable with plain data.

import { findManagedBy } from '#shared/domain/managedBy.ts';

export type Scope = 'opt-in' | 'opt-out';

export interface InstanceFacts {
  instanceId: string;
  instanceType: string;
  /** EC2 state name: 'running', 'stopped', ... */
  state: string;
  tags: Record<string, string>;
  /** DescribeInstances InstanceLifecycle: 'spot' | 'scheduled' | 'capacity-block' | undefined (on-demand) */
  lifecycle?: string;
  /** 'ebs' | 'instance-store' */
  rootDeviceType: string;
  /** DisableApiStop, when known */
  stopProtection?: boolean;
  /** ISO 8601 */
  launchTime?: string;
}

export type Exclusion =
  | 'not-running'
  | 'auto-scaling-member'
  | 'eks-managed'
  | 'ecs-managed'
  | 'karpenter-managed'
  | 'emr-managed'
  | 'batch-managed'
  | 'spot'
  | 'instance-store-root'
  | 'stop-protection'
  | 'opted-out'
  | 'not-opted-in';

export const AUTO_STOP_TAG = 'ops:auto-stop';

type ScopeIntent = 'in' | 'out' | 'none';

function readScopeTag(tags: Record<string, string>): ScopeIntent {
  const value = tags[AUTO_STOP_TAG];
  if (value === undefined) return 'none';
  // Opting out is honoured in any spelling (the safe direction). Opting in needs exactly 'true' because the
  // IAM tag condition on StopInstances compares the value case-sensitively.
  if (value.trim().toLowerCase() === 'false') return 'out';
  return value === 'true' ? 'in' : 'none';
}

/** Why an instance must not be stopped, or undefined when it is a candidate for the idle check. */
export function screenInstance(i: InstanceFacts, scope: Scope): Exclusion | undefined {
  if (i.state !== 'running') return 'not-running';
  const managed = findManagedBy(i.tags);
  if (managed) return managed.rule.exclusion;
  // One-time Spot requests cannot be stopped, and a stopped persistent one may not get its capacity back.
  if (i.lifecycle === 'spot') return 'spot';
  // Stopping loses instance-store data, and an instance-store root cannot be stopped at all.
  if (i.rootDeviceType === 'instance-store') return 'instance-store-root';
  if (i.stopProtection === true) return 'stop-protection';
  const intent = readScopeTag(i.tags);
  if (intent === 'out') return 'opted-out';
  if (scope === 'opt-in' && intent !== 'in') return 'not-opted-in';
  return undefined;
}

function exclusionReason(i: InstanceFacts, exclusion: Exclusion, scope: Scope): string {
  switch (exclusion) {
    case 'not-running':
      return `Not running (state ${i.state}); only running instances are stopped.`;
    case 'spot':
      return 'Spot instance; stopping it can fail or lose the capacity, so it is never stopped.';
    case 'instance-store-root':
      return 'Root device is instance store; it cannot be stopped without losing its data.';
    case 'stop-protection':
      return 'Stop protection (DisableApiStop) is on; its owner asked for it never to be stopped.';
    case 'opted-out':
      return `Tagged ${AUTO_STOP_TAG}=${i.tags[AUTO_STOP_TAG] ?? 'false'}; opted out for good.`;
    case 'not-opted-in':
      return `Scope is ${scope} and the instance is not tagged ${AUTO_STOP_TAG}=true.`;
    default: {
      const managed = findManagedBy(i.tags);
      const tag = managed ? ` (tag ${managed.tagKey}=${managed.tagValue})` : '';
      const owner = managed?.rule.owner ?? 'another service';
      return `Managed by ${owner}${tag}; that service owns its lifecycle and would replace a stopped instance.`;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Metrics judgement

export interface IdlePolicy {
  lookbackHours: number;
  cpuThresholdPercent: number;
  networkThresholdBytesPerHour: number;
  /** Share of the window's hours that need a datapoint, e.g. 0.9 */
  minCoverage: number;
}

/** Epoch seconds of each hour's start, with the hourly Maximum (CPU %) or Sum (network bytes). */
export interface HourlySeries {
  timestamps: number[];
  values: number[];
}

export type IdleStatus = 'idle' | 'busy-cpu' | 'busy-network' | 'not-enough-data';

export interface IdleEvidence {
  maxCpuPercent: number | null;
  maxNetworkBytesPerHour: number | null;
  cpuCoverage: number;
  /** null when network was not fetched (CPU already decided the case) */
  networkCoverage: number | null;
  hoursExpected: number;
  cpuHoursCovered: number;
  networkHoursCovered: number | null;
}

export interface CpuEvidence {
  maxCpuPercent: number | null;
  cpuCoverage: number;
  cpuHoursCovered: number;
  hoursExpected: number;
  hoursRequired: number;
}

export interface CpuJudgement {
  status: 'cpu-idle' | 'busy-cpu' | 'not-enough-data';
  evidence: CpuEvidence;
}

export interface NetworkEvidence {
  maxNetworkBytesPerHour: number | null;
  networkCoverage: number;
  networkHoursCovered: number;
  hoursExpected: number;
  hoursRequired: number;
}

export interface NetworkJudgement {
  status: 'network-idle' | 'busy-network' | 'not-enough-data';
  evidence: NetworkEvidence;
}

const EMPTY_SERIES: HourlySeries = { timestamps: [], values: [] };

/** Hour index -> value; non-finite values are no datapoint, and duplicates in one hour keep the largest. */
function byHour(series: HourlySeries): Map<number, number> {
  const hours = new Map<number, number>();
  const n = Math.min(series.timestamps.length, series.values.length);
  for (let k = 0; k < n; k++) {
    const ts = series.timestamps[k];
    const value = series.values[k];
    if (ts === undefined || value === undefined || !Number.isFinite(ts) || !Number.isFinite(value)) continue;
    const hour = Math.floor(ts / 3600);
    const previous = hours.get(hour);
    hours.set(hour, previous === undefined ? value : Math.max(previous, value));
  }
  return hours;
}

// A loop rather than Math.max(...values): long lookbacks must not hit the argument-count limit.
function maxOf(values: Iterable<number>): number | null {
  let max: number | null = null;
  for (const v of values) max = max === null ? v : Math.max(max, v);
  return max;
}

function hoursExpectedOf(policy: IdlePolicy): number {
  return Math.max(0, Math.floor(policy.lookbackHours));
}

// Counted in whole hours so 0.9 × 10 h is 9 h, not a float just above it; at least 1 so an empty window
// never passes.
function hoursRequiredOf(policy: IdlePolicy): number {
  return Math.max(1, Math.ceil(policy.minCoverage * hoursExpectedOf(policy) - 1e-9));
}

function coverageOf(covered: number, expected: number): number {
  return expected === 0 ? 0 : Math.min(1, covered / expected);
}

/** Every hourly CPU maximum strictly below the threshold, over enough of the window's hours. */
export function judgeCpu(cpu: HourlySeries, policy: IdlePolicy): CpuJudgement {
  const hours = byHour(cpu);
  const hoursExpected = hoursExpectedOf(policy);
  const hoursRequired = hoursRequiredOf(policy);
  const maxCpuPercent = maxOf(hours.values());
  const cpuHoursCovered = hours.size;
  const evidence: CpuEvidence = {
    maxCpuPercent,
    cpuCoverage: coverageOf(cpuHoursCovered, hoursExpected),
    cpuHoursCovered,
    hoursExpected,
    hoursRequired,
  };
  // A measured busy hour settles it even with gaps: it is busy, and that is worth saying over "no data".
  if (maxCpuPercent !== null && maxCpuPercent >= policy.cpuThresholdPercent)
    return { status: 'busy-cpu', evidence };
  if (cpuHoursCovered < hoursRequired) return { status: 'not-enough-data', evidence };
  return { status: 'cpu-idle', evidence };
}

/** In + out summed per hour; every hour below the threshold, over enough hours measured both ways. */
export function judgeNetwork(
  netIn: HourlySeries,
  netOut: HourlySeries,
  policy: IdlePolicy,
): NetworkJudgement {
  const inByHour = byHour(netIn);
  const outByHour = byHour(netOut);
  const hoursExpected = hoursExpectedOf(policy);
  const hoursRequired = hoursRequiredOf(policy);
  let max: number | null = null;
  let networkHoursCovered = 0;
  for (const hour of new Set([...inByHour.keys(), ...outByHour.keys()])) {
    const bytesIn = inByHour.get(hour);
    const bytesOut = outByHour.get(hour);
    // A one-sided hour is a lower bound: enough to prove busy, not enough to prove idle.
    if (bytesIn !== undefined && bytesOut !== undefined) networkHoursCovered++;
    const total = (bytesIn ?? 0) + (bytesOut ?? 0);
    max = max === null ? total : Math.max(max, total);
  }
  const evidence: NetworkEvidence = {
    maxNetworkBytesPerHour: max,
    networkCoverage: coverageOf(networkHoursCovered, hoursExpected),
    networkHoursCovered,
    hoursExpected,
    hoursRequired,
  };
  if (max !== null && max >= policy.networkThresholdBytesPerHour) return { status: 'busy-network', evidence };
  if (networkHoursCovered < hoursRequired) return { status: 'not-enough-data', evidence };
  return { status: 'network-idle', evidence };
}

// ---------------------------------------------------------------------------------------------------------
// Prices and savings

// us-east-1, Linux, on-demand, USD per hour. Approximate public list prices (AWS pricing pages, 2024-2025),
// good enough for an estimate in a report; they are never used to decide anything.
export const onDemandHourlyUsd: Readonly<Record<string, number>> = {
  't3.nano': 0.0052,
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  't3.2xlarge': 0.3328,
  't3a.nano': 0.0047,
  't3a.micro': 0.0094,
  't3a.small': 0.0188,
  't3a.medium': 0.0376,
  't3a.large': 0.0752,
  't3a.xlarge': 0.1504,
  't3a.2xlarge': 0.3008,
  't4g.nano': 0.0042,
  't4g.micro': 0.0084,
  't4g.small': 0.0168,
  't4g.medium': 0.0336,
  't4g.large': 0.0672,
  't4g.xlarge': 0.1344,
  't4g.2xlarge': 0.2688,
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm6i.large': 0.096,
  'm6i.xlarge': 0.192,
  'm6i.2xlarge': 0.384,
  'm6i.4xlarge': 0.768,
  'm7g.large': 0.0816,
  'm7g.xlarge': 0.1632,
  'm7g.2xlarge': 0.3264,
  'm7g.4xlarge': 0.6528,
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c6i.large': 0.085,
  'c6i.xlarge': 0.17,
  'c6i.2xlarge': 0.34,
  'c6i.4xlarge': 0.68,
  'c7g.large': 0.0725,
  'c7g.xlarge': 0.145,
  'c7g.2xlarge': 0.29,
  'c7g.4xlarge': 0.58,
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r6i.large': 0.126,
  'r6i.xlarge': 0.252,
  'r6i.2xlarge': 0.504,
};

export const HOURS_PER_MONTH = 730;

const roundCents = (usd: number): number => Math.round(usd * 100) / 100;

export const onDemandMonthlyUsd: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(onDemandHourlyUsd).map(([type, hourly]) => [type, roundCents(hourly * HOURS_PER_MONTH)]),
);

/** Compute cost saved by a stop; EBS volumes stay billed, so this is an upper bound of the real saving. */
export function estimateMonthlySavingUsd(instanceType: string): number | 'unknown' {
  // Object.hasOwn so a type named like a prototype key ('constructor') is unknown, not a function.
  if (!Object.hasOwn(onDemandMonthlyUsd, instanceType)) return 'unknown';
  return onDemandMonthlyUsd[instanceType] ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------------------
// Fleet verdicts

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
  policy: IdlePolicy;
  scope: Scope;
  /** Stops allowed in any rolling hour, across runs */
  maxStopsPerHour: number;
  /** Stops other runs already made in the rolling hour: this run may make only the rest. */
  stopsInLastHour?: number;
}

const formatNumber = (n: number): string => String(Math.round(n * 100) / 100);

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${formatNumber(value)} ${units[unit]}`;
}

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
            estimatedMonthlySavingUsd: estimateMonthlySavingUsd(instanceType),
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

export function summarizeSavings(verdicts: readonly IdleVerdict[]): SavingsSummary {
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
      const potential = estimateMonthlySavingUsd(v.instanceType);
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
