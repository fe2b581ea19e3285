import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { cloudwatch } from '#shared/aws/cloudwatch.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { currentInvocation } from '#shared/runtime/invocation.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { readStopBudget, type StopBudget } from '#shared/state/stopBudget.ts';
import { readStopList } from '#shared/state/stopRun.ts';
import { type DescribeStats, describeRunning } from './describe.ts';
import { type InstanceFacts, type Scope, screenInstance } from './exclusions.ts';
import { type HourlySeries, type IdlePolicy, judgeCpu } from './idleness.ts';
import type { IdleStopRule } from './rule.ts';

export { describeRunning } from './describe.ts';
export { gatherPermissions } from './readPermissions.ts';

/**
 * AWS limits that shape the scan: GetMetricData takes at most 500 queries a call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html); the
 * DescribeInstances page size adapts to the answer's time (./describe.ts).
 */
export const METRIC_QUERIES_PER_CALL = 500;
/**
 * Queries per GetMetricData page: a fifth of the API's limit, so a page finishes well inside the client's
 * 15 s request timeout. A page's time grows with its queries (moto walks every datapoint per query and
 * hour: a 500-query page at N=1,000 took longer than 15 s); a slow region or throttling does the same.
 * Billing is per metric, not per call, so smaller pages cost the same; N=1,000 is about ten pages.
 */
export const METRIC_QUERIES_PER_PAGE = 100;
const HOUR_MS = 3_600_000;

/** What one scan cost, so tests and the bench can hold it to O(N/100) calls. */
export interface ScanStats extends DescribeStats {
  instancesRunning: number;
  instancesInScope: number;
  cpuIdleCandidates: number;
  /** GetMetricData calls */
  metricCalls: number;
  /** Metric data queries sent: the unit GetMetricData is billed by */
  metricsRequested: number;
  /** GetMetricData pages that failed or timed out: their instances have no verdict but no-data */
  metricPagesFailed: number;
  /** Instances in scope whose metrics a failed page held */
  instancesUnreadable: number;
}

export interface FleetScan {
  instances: InstanceFacts[];
  cpu: Map<string, HourlySeries>;
  netIn: Map<string, HourlySeries>;
  netOut: Map<string, HourlySeries>;
  /** Instances whose metrics could not be read, with why: no-data, never stopped. */
  unreadable: Map<string, string>;
  /** The lookback window, aligned to whole hours: [start, end) */
  window: { start: string; end: string };
  scanStats: ScanStats;
}

export interface ScanOptions {
  scope: Scope;
  policy: IdlePolicy;
  maxStopsPerHour: number;
  /** Stops already made in the rolling hour. */
  stopsInLastHour?: number;
  now?: Date;
  /** A fixed DescribeInstances MaxResults, for tests of paging; adaptive otherwise (./describe.ts). */
  describePageSize?: number;
  /** Milliseconds, for timing DescribeInstances pages; performance.now unless a test sets it. */
  clock?: () => number;
  /** When the first DescribeInstances page is over its budget (./describe.ts); for tests. */
  describeFirstPageOverBudget?: () => Promise<void>;
  /** Another account's or region's clients (an organization's scan target); this account's otherwise. */
  clients?: ScanClients;
}

/** The clients a scan reads with. */
export interface ScanClients {
  ec2: EC2Client;
  cloudwatch: CloudWatchClient;
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
  /** Another account's or region's clients (an organization's scan target); this account's otherwise. */
  clients?: ScanClients;
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

/** The scan could read no metric at all: nothing can be judged, so the run fails and is retried. */
export class MetricsUnavailable extends Error {
  override name = 'MetricsUnavailable';
}

interface SeriesRead {
  byMetric: Map<string, Map<string, HourlySeries>>;
  /** instanceId -> why its series could not be read */
  unreadable: Map<string, string>;
  pages: number;
  failedPages: number;
}

/**
 * GetMetricData in pages of METRIC_QUERIES_PER_PAGE queries, following NextToken within a page. A page
 * that fails or times out (after the client's retries) leaves its instances unreadable and the scan
 * goes on with the next page; its partial answers are dropped, so an instance is judged on all of its
 * series or none. A query that comes back without data is simply missing hours: the coverage rule then
 * spares it.
 */
async function fetchSeries(
  queries: SeriesQuery[],
  window: { start: Date; end: Date },
  stats: ScanStats,
  client: CloudWatchClient = cloudwatch,
): Promise<SeriesRead> {
  const read: SeriesRead = { byMetric: new Map(), unreadable: new Map(), pages: 0, failedPages: 0 };
  const byId = new Map(queries.map((q) => [q.id, q]));
  const pageCount = Math.ceil(queries.length / METRIC_QUERIES_PER_PAGE);
  for (let from = 0; from < queries.length; from += METRIC_QUERIES_PER_PAGE) {
    const pageQueries = queries.slice(from, from + METRIC_QUERIES_PER_PAGE);
    const batch = pageQueries.map(toMetricQuery);
    read.pages++;
    const answers: { q: SeriesQuery; times: Date[]; values: number[] }[] = [];
    let nextToken: string | undefined;
    try {
      do {
        stats.metricCalls++;
        stats.metricsRequested += batch.length;
        const res: GetMetricDataCommandOutput = await client.send(
          new GetMetricDataCommand({
            MetricDataQueries: batch,
            StartTime: window.start,
            EndTime: window.end,
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        );
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
          answers.push({ q, times: result.Timestamps ?? [], values: result.Values ?? [] });
        }
        nextToken = res.NextToken;
      } while (nextToken);
    } catch (error) {
      // The invocation's deadline is not a page's failure: the run stops here and is retried.
      if (currentInvocation()?.signal.aborted) throw error;
      read.failedPages++;
      stats.metricPagesFailed++;
      const name = error instanceof Error ? error.name : 'Error';
      const page = read.pages;
      const why = `GetMetricData page ${page} of ${pageCount} (${pageQueries[0]?.metricName ?? 'metrics'}) failed: ${name}`;
      logger.warn('metric page not readable', { page, of: pageCount, queries: batch.length, error });
      for (const q of pageQueries) read.unreadable.set(q.instanceId, why);
      continue;
    }
    for (const { q, times, values } of answers) {
      const series = read.byMetric.get(q.metricName) ?? new Map<string, HourlySeries>();
      read.byMetric.set(q.metricName, series);
      append(series, q.instanceId, times, values);
    }
  }
  return read;
}

/** Query ids must start with a lowercase letter and hold only letters, digits and underscores. */
const queryId = (prefix: 'cpu' | 'in' | 'out', index: number): string => `${prefix}_${index}`;

export function lookbackWindow(now: Date, lookbackHours: number): { start: Date; end: Date } {
  const end = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  return { start: new Date(end.getTime() - lookbackHours * HOUR_MS), end };
}

/**
 * Read-only: running instances, screened before any metric is requested; hourly CPU maxima for those in
 * scope; network sums only for the CPU-idle. Stop protection is not read: DescribeInstances does not
 * return it and DescribeInstanceAttribute reads one instance a call, so the stop executor stops
 * optimistically and reports a refusal (OperationNotPermitted) as stop protection.
 */
export async function scanFleet(options: ScanOptions): Promise<FleetScan> {
  const stats: ScanStats = {
    describePages: 0,
    describePagesFailed: 0,
    instancesRunning: 0,
    instancesInScope: 0,
    cpuIdleCandidates: 0,
    metricCalls: 0,
    metricsRequested: 0,
    metricPagesFailed: 0,
    instancesUnreadable: 0,
  };
  const window = lookbackWindow(options.now ?? new Date(), options.policy.lookbackHours);
  const instances = await describeRunning(
    stats,
    {
      ...(options.describePageSize !== undefined ? { pageSize: options.describePageSize } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.describeFirstPageOverBudget
        ? { firstPageOverBudget: options.describeFirstPageOverBudget }
        : {}),
    },
    options.clients?.ec2,
  );
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
  const cpuRead = await fetchSeries(cpuQueries, window, stats, options.clients?.cloudwatch);
  if (cpuRead.pages > 0 && cpuRead.failedPages === cpuRead.pages) {
    throw new MetricsUnavailable(
      `metrics unavailable: no GetMetricData page could be read (${cpuRead.failedPages} of ${cpuRead.pages} failed; ` +
        `${cpuRead.unreadable.values().next().value ?? ''}); ${inScope.length} of ${inScope.length} instance(s) unreadable`,
    );
  }
  const cpu = cpuRead.byMetric.get('CPUUtilization') ?? new Map<string, HourlySeries>();

  const empty: HourlySeries = { timestamps: [], values: [] };
  const cpuIdle = inScope.filter(
    (i) =>
      !cpuRead.unreadable.has(i.instanceId) &&
      judgeCpu(cpu.get(i.instanceId) ?? empty, options.policy).status === 'cpu-idle',
  );
  stats.cpuIdleCandidates = cpuIdle.length;
  const networkQueries = cpuIdle.flatMap((i, k): SeriesQuery[] => [
    { id: queryId('in', k), instanceId: i.instanceId, metricName: 'NetworkIn', stat: 'Sum' },
    { id: queryId('out', k), instanceId: i.instanceId, metricName: 'NetworkOut', stat: 'Sum' },
  ]);
  const network = await fetchSeries(networkQueries, window, stats, options.clients?.cloudwatch);
  const unreadable = new Map([...cpuRead.unreadable, ...network.unreadable]);
  stats.instancesUnreadable = unreadable.size;

  return {
    instances,
    cpu,
    netIn: network.byMetric.get('NetworkIn') ?? new Map(),
    netOut: network.byMetric.get('NetworkOut') ?? new Map(),
    unreadable,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    scanStats: stats,
  };
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
    ...(request.clients ? { clients: request.clients } : {}),
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
