// Whether an instance's hourly CPU and network series show it idle over the lookback window: pure
// judgement over datapoints already gathered, with the evidence that decided it.

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

/** 'no-data': the metrics could not be read at all (a GetMetricData page failed), so nothing is judged. */
export type IdleStatus = 'idle' | 'busy-cpu' | 'busy-network' | 'not-enough-data' | 'no-data';

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

/** What a missing series counts as: no datapoint at all. */
export const EMPTY_SERIES: HourlySeries = { timestamps: [], values: [] };

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
