import {
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { cloudwatch } from '#shared/aws/cloudwatch.ts';
import { ec2 } from '#shared/aws/ec2.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { readStopBudget, type StopBudget } from '#shared/state/stopBudget.ts';
import { readStopList } from '#shared/state/stopRun.ts';
import { type InstanceFacts, type Scope, screenInstance } from './exclusions.ts';
import { decideFleet } from './fleet.ts';
import { type HourlySeries, type IdlePolicy, judgeCpu } from './idleness.ts';
import type { IdleStopRule } from './rule.ts';

export { gatherPermissions } from './readPermissions.ts';

/**
 * AWS limits that shape the scan: DescribeInstances returns at most 1000 instances a page
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html), GetMetricData
 * takes at most 500 queries a call (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
 */
export const DESCRIBE_PAGE_SIZE = 1000;
export const METRIC_QUERIES_PER_CALL = 500;
const HOUR_MS = 3_600_000;
/** DescribeInstanceAttribute has no batch form: a few at a time, only for the instances about to be stopped. */
const ATTRIBUTE_CONCURRENCY = 5;

/** What one scan cost, so tests and the bench can hold it to O(N/500) calls. */
export interface ScanStats {
  describePages: number;
  instancesRunning: number;
  instancesInScope: number;
  cpuIdleCandidates: number;
  /** GetMetricData calls */
  metricCalls: number;
  /** Metric data queries sent: the unit GetMetricData is billed by */
  metricsRequested: number;
  /** DescribeInstanceAttribute(disableApiStop) calls */
  stopProtectionChecks: number;
  stopProtected: number;
}

export interface FleetScan {
  instances: InstanceFacts[];
  cpu: Map<string, HourlySeries>;
  netIn: Map<string, HourlySeries>;
  netOut: Map<string, HourlySeries>;
  /** The lookback window, aligned to whole hours: [start, end) */
  window: { start: string; end: string };
  scanStats: ScanStats;
}

export interface ScanOptions {
  scope: Scope;
  policy: IdlePolicy;
  maxStopsPerHour: number;
  /** Stops already made in the rolling hour (stop protection is read only for what may still be stopped). */
  stopsInLastHour?: number;
  now?: Date;
  /** DescribeInstances MaxResults; 1000 unless a test needs smaller pages. */
  describePageSize?: number;
}

/** What a stop decision reads, whichever function makes it (the idle scan, a cost anomaly). */
export interface IdleStopsGathered extends FleetScan {
  /** The stop list an earlier attempt of this decision recorded: a retry finishes that decision. */
  recordedStops?: string[];
  /** The rolling hour's stop budget as read before the scan; the stop executor claims against it again. */
  budget: StopBudget;
}

export type IdleScanGathered = IdleStopsGathered;

/** One stop decision's inputs: whose decision it is, and the rule and limit it is judged by. */
export interface IdleStopRequest {
  /** Keys the decision's budget claim and stop list: a run's correlation id, an anomaly at one impact. */
  run: string;
  scope: Scope;
  policy: IdlePolicy;
  maxStopsPerHour: number;
}

function toFacts(i: Instance): InstanceFacts {
  return {
    instanceId: i.InstanceId ?? '',
    instanceType: i.InstanceType ?? 'unknown',
    state: i.State?.Name ?? 'unknown',
    tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    ...(i.InstanceLifecycle ? { lifecycle: i.InstanceLifecycle } : {}),
    // Unknown is not instance-store: the stop itself would then fail visibly rather than silently skip.
    rootDeviceType: i.RootDeviceType ?? 'unknown',
    ...(i.LaunchTime ? { launchTime: i.LaunchTime.toISOString() } : {}),
  };
}

export async function describeRunning(stats: ScanStats, pageSize: number): Promise<InstanceFacts[]> {
  const facts: InstanceFacts[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
        MaxResults: pageSize,
        NextToken: nextToken,
      }),
    );
    stats.describePages++;
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? [])
        if (instance.InstanceId) facts.push(toFacts(instance));
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return facts;
}

interface SeriesQuery {
  id: string;
  instanceId: string;
  metricName: 'CPUUtilization' | 'NetworkIn' | 'NetworkOut';
  stat: 'Maximum' | 'Sum';
}

function toMetricQuery(q: SeriesQuery): MetricDataQuery {
  return {
    Id: q.id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/EC2',
        MetricName: q.metricName,
        Dimensions: [{ Name: 'InstanceId', Value: q.instanceId }],
      },
      Period: 3600,
      Stat: q.stat,
    },
    ReturnData: true,
  };
}

function append(
  series: Map<string, HourlySeries>,
  instanceId: string,
  times: Date[],
  values: number[],
): void {
  const s = series.get(instanceId) ?? { timestamps: [], values: [] };
  const n = Math.min(times.length, values.length);
  for (let k = 0; k < n; k++) {
    s.timestamps.push(Math.floor((times[k] as Date).getTime() / 1000));
    s.values.push(values[k] as number);
  }
  series.set(instanceId, s);
}

/**
 * GetMetricData in batches of 500 queries (the API's limit), following NextToken within a batch.
 * A query that comes back without data is simply missing hours: the coverage rule then spares it.
 */
async function fetchSeries(
  queries: SeriesQuery[],
  window: { start: Date; end: Date },
  stats: ScanStats,
): Promise<Map<string, Map<string, HourlySeries>>> {
  const byMetric = new Map<string, Map<string, HourlySeries>>();
  const byId = new Map(queries.map((q) => [q.id, q]));
  for (let from = 0; from < queries.length; from += METRIC_QUERIES_PER_CALL) {
    const batch = queries.slice(from, from + METRIC_QUERIES_PER_CALL).map(toMetricQuery);
    let nextToken: string | undefined;
    do {
      const res: GetMetricDataCommandOutput = await cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: batch,
          StartTime: window.start,
          EndTime: window.end,
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
      );
      stats.metricCalls++;
      stats.metricsRequested += batch.length;
      for (const result of res.MetricDataResults ?? []) {
        const q = result.Id ? byId.get(result.Id) : undefined;
        if (!q) continue;
        if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
          logger.warn('metric not readable', {
            instanceId: q.instanceId,
            metric: q.metricName,
            status: result.StatusCode,
          });
        }
        const series = byMetric.get(q.metricName) ?? new Map<string, HourlySeries>();
        byMetric.set(q.metricName, series);
        append(series, q.instanceId, result.Timestamps ?? [], result.Values ?? []);
      }
      nextToken = res.NextToken;
    } while (nextToken);
  }
  return byMetric;
}

/** Query ids must start with a lowercase letter and hold only letters, digits and underscores. */
const queryId = (prefix: 'cpu' | 'in' | 'out', index: number): string => `${prefix}_${index}`;

async function readStopProtection(instanceId: string): Promise<boolean> {
  const res = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiStop' }),
  );
  return res.DisableApiStop?.Value === true;
}

/**
 * DescribeInstances does not return DisableApiStop, and DescribeInstanceAttribute reads one instance per
 * call. So it is read only for the instances the plan would stop: when one is protected it becomes an
 * exclusion and the next idle candidate moves up, which is read in turn. At most the stops left in the
 * hour plus the number of protected candidates found, never the fleet.
 */
async function markStopProtection(scan: FleetScan, options: ScanOptions): Promise<void> {
  const checked = new Set<string>();
  const index = new Map(scan.instances.map((i, k) => [i.instanceId, k]));
  for (;;) {
    const verdicts = decideFleet({
      ...scan,
      policy: options.policy,
      scope: options.scope,
      maxStopsPerHour: options.maxStopsPerHour,
      ...(options.stopsInLastHour === undefined ? {} : { stopsInLastHour: options.stopsInLastHour }),
    });
    const unchecked = verdicts
      .filter((v) => v.decision === 'stop' && !checked.has(v.instanceId))
      .map((v) => v.instanceId);
    if (unchecked.length === 0) return;
    for (let from = 0; from < unchecked.length; from += ATTRIBUTE_CONCURRENCY) {
      const ids = unchecked.slice(from, from + ATTRIBUTE_CONCURRENCY);
      const values = await Promise.all(ids.map(readStopProtection));
      ids.forEach((id, k) => {
        checked.add(id);
        scan.scanStats.stopProtectionChecks++;
        const k2 = index.get(id);
        const facts = k2 === undefined ? undefined : scan.instances[k2];
        if (!facts) return;
        facts.stopProtection = values[k] === true;
        if (facts.stopProtection) scan.scanStats.stopProtected++;
      });
    }
  }
}

export function lookbackWindow(now: Date, lookbackHours: number): { start: Date; end: Date } {
  const end = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  return { start: new Date(end.getTime() - lookbackHours * HOUR_MS), end };
}

/**
 * Read-only: running instances, screened before any metric is requested; hourly CPU maxima for those in
 * scope; network sums only for the CPU-idle; stop protection only for those the plan would stop.
 */
export async function scanFleet(options: ScanOptions): Promise<FleetScan> {
  const stats: ScanStats = {
    describePages: 0,
    instancesRunning: 0,
    instancesInScope: 0,
    cpuIdleCandidates: 0,
    metricCalls: 0,
    metricsRequested: 0,
    stopProtectionChecks: 0,
    stopProtected: 0,
  };
  const window = lookbackWindow(options.now ?? new Date(), options.policy.lookbackHours);
  const instances = await describeRunning(stats, options.describePageSize ?? DESCRIBE_PAGE_SIZE);
  stats.instancesRunning = instances.length;

  const inScope = instances.filter((i) => screenInstance(i, options.scope) === undefined);
  stats.instancesInScope = inScope.length;
  const cpuQueries = inScope.map(
    (i, k): SeriesQuery => ({
      id: queryId('cpu', k),
      instanceId: i.instanceId,
      metricName: 'CPUUtilization',
      stat: 'Maximum',
    }),
  );
  const cpu = (await fetchSeries(cpuQueries, window, stats)).get('CPUUtilization') ?? new Map();

  const empty: HourlySeries = { timestamps: [], values: [] };
  const cpuIdle = inScope.filter(
    (i) => judgeCpu(cpu.get(i.instanceId) ?? empty, options.policy).status === 'cpu-idle',
  );
  stats.cpuIdleCandidates = cpuIdle.length;
  const networkQueries = cpuIdle.flatMap((i, k): SeriesQuery[] => [
    { id: queryId('in', k), instanceId: i.instanceId, metricName: 'NetworkIn', stat: 'Sum' },
    { id: queryId('out', k), instanceId: i.instanceId, metricName: 'NetworkOut', stat: 'Sum' },
  ]);
  const network = await fetchSeries(networkQueries, window, stats);

  const scan: FleetScan = {
    instances,
    cpu,
    netIn: network.get('NetworkIn') ?? new Map(),
    netOut: network.get('NetworkOut') ?? new Map(),
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    scanStats: stats,
  };
  await markStopProtection(scan, options);
  return scan;
}

/**
 * Read-only: the account's stop budget for the hour, the stop list an earlier attempt of this decision
 * recorded, and the fleet judged against what the hour has left. Every function that stops reads this.
 */
export async function gatherIdleStops(request: IdleStopRequest): Promise<IdleStopsGathered> {
  const [budget, recorded] = await Promise.all([
    readStopBudget(request.maxStopsPerHour, request.run),
    readStopList(request.run),
  ]);
  const scan = await scanFleet({
    scope: request.scope,
    policy: request.policy,
    maxStopsPerHour: request.maxStopsPerHour,
    stopsInLastHour: budget.usedInLastHour,
  });
  return { ...scan, budget, ...(recorded ? { recordedStops: [...recorded] } : {}) };
}

/** The pipeline's gather step of an idle scan: one stop decision per delivery, keyed by its correlation id. */
export async function gatherIdleScan(input: {
  signal: Signal;
  facts: IdleStopRule;
}): Promise<IdleScanGathered> {
  const { signal, facts: run } = input;
  return gatherIdleStops({
    run: signal.correlationId,
    scope: run.scope,
    policy: run.policy,
    maxStopsPerHour: run.maxStopsPerHour,
  });
}
