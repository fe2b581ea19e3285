import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { type InstanceGroup, inParallel, seedFleet } from '../../tools/local/fleet.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';

/**
 * The idle scan's cost at fleet scale, against moto: our batched scan (DescribeInstances pages sized from
 * the answer's time, 200 to 1,000 instances, as shipped; GetMetricData pages of 100 queries, network only for the CPU-idle, stop protection learnt from the
 * stop's refusal) beside a per-instance scan (one GetMetricStatistics call per instance and metric, as
 * Cloud Custodian's metrics filter does), on the same seeded fleet in the same process, with the shipped
 * clients (timeouts and retries).
 *
 * Calls, metrics and cost do not depend on the emulator. Wall time does: moto's GetMetricData walks every
 * datapoint in the window once per query and hour, so the seeded fleet is kept lean (busy instances get one
 * busy hour, the window is short) and the wall times say more about moto than about AWS. "Outside moto" is
 * the wall time minus the time inside the scan's AWS calls: what our own code costs.
 */

export interface Row {
  approach: 'batched' | 'per-instance';
  instances: number;
  inScope: number;
  cpuIdle: number;
  describeCalls: number;
  metricCalls: number;
  /** GetMetricData: queries sent; GetMetricStatistics: one metric per call */
  metricsRequested: number;
  /** Every API call of the scan (describe, metrics, stop-protection reads) */
  apiCalls: number;
  /** At an hourly schedule: 730 scans a month, $0.01 per 1000 metrics (GetMetricData) or requests (GetMetricStatistics) */
  monthlyCloudWatchUsd: number;
  wallMs: number;
  /** Wall time outside the AWS calls (the time not spent waiting for moto): our own code's share */
  outsideAwsMs: number;
  /** DescribeInstances and GetMetricData pages that failed or timed out, batched only */
  failedPages: number;
  seedMs: number;
  /** Both approaches found the same CPU-idle instances */
  agrees: boolean;
  /** The smallest and largest DescribeInstances page the scan asked for, in instances (0 when none) */
  describePageInstances: { min: number; max: number };
  /** This size failed: what was thrown, and the figures are zero */
  error?: string;
}

export interface BenchOptions {
  lookbackHours?: number;
  /** Requests in flight for the per-instance approach (Custodian runs its filters in a thread pool). */
  perInstanceConcurrency?: number;
}

/**
 * moto counts DescribeInstances' MaxResults in reservations, EC2 in instances. The bench launches its fleet
 * in reservations of this many instances and turns the scan's MaxResults into as many whole reservations
 * (rounded up), so each page holds what the shipped scan asked for. One instance a reservation would need
 * no translation but took 551 s to seed 5,000 at load 24 (RunInstances costs moto more per call the more
 * instances it holds).
 */
export const SEEDED_PER_RESERVATION = 10;
export const reservationsFor = (maxResults: number): number =>
  Math.max(1, Math.ceil(maxResults / SEEDED_PER_RESERVATION));

const SCANS_PER_MONTH = 730;
const USD_PER_1000 = 0.01;
const monthly = (units: number) => Math.round(((units * SCANS_PER_MONTH) / 1000) * USD_PER_1000 * 100) / 100;

/** Most busy, about 10 % idle and opted in, about 10 % excluded (EKS-managed or not opted in). */
export function benchFleet(n: number, lookbackHours: number): InstanceGroup[] {
  const idle = Math.round(n * 0.1);
  const excluded = Math.round(n * 0.1);
  const optIn = { 'ops:auto-stop': 'true' };
  return [
    {
      name: 'busy',
      count: n - idle - excluded,
      perReservation: SEEDED_PER_RESERVATION,
      tags: optIn,
      cpu: { hours: 1, value: 55 },
      instanceType: 'm5.large',
    },
    {
      name: 'idle',
      count: idle,
      perReservation: SEEDED_PER_RESERVATION,
      tags: optIn,
      cpu: { hours: lookbackHours, value: 1 },
      network: { hours: lookbackHours, value: 20_000 },
      instanceType: 't3.medium',
    },
    {
      name: 'eks',
      count: Math.ceil(excluded / 2),
      perReservation: SEEDED_PER_RESERVATION,
      tags: { ...optIn, 'eks:cluster-name': 'main' },
    },
    { name: 'untagged', count: Math.floor(excluded / 2), perReservation: SEEDED_PER_RESERVATION },
  ].filter((g) => g.count > 0);
}

const FAILED_ROW: Omit<Row, 'instances'> = {
  approach: 'batched',
  inScope: 0,
  cpuIdle: 0,
  describeCalls: 0,
  metricCalls: 0,
  metricsRequested: 0,
  apiCalls: 0,
  monthlyCloudWatchUsd: 0,
  wallMs: 0,
  outsideAwsMs: 0,
  failedPages: 0,
  seedMs: 0,
  agrees: true,
  describePageInstances: { min: 0, max: 0 },
};

export async function benchIdleScan(
  sizes = [100, 1000, 5000],
  options: BenchOptions = {},
  progress: (line: string) => void = () => undefined,
): Promise<Row[]> {
  const lookbackHours = options.lookbackHours ?? 3;
  const concurrency = options.perInstanceConcurrency ?? 8;
  const moto: Moto = await startMoto();
  const previousEndpoint = process.env.AWS_ENDPOINT_URL;
  useMotoEnvironment(moto.endpoint);
  try {
    // Imported after the environment points at moto: the shared clients are built on import.
    const { describeRunning, lookbackWindow, scanFleet } = await import('#shared/idle/gather.ts');
    const { screenInstance } = await import('#shared/idle/exclusions.ts');
    const { judgeCpu } = await import('#shared/idle/idleness.ts');
    const { cloudwatch } = await import('#shared/aws/cloudwatch.ts');
    const { ec2 } = await import('#shared/aws/ec2.ts');
    // Time with at least one call of the scan's clients in flight (the union, as the per-instance scan
    // runs calls concurrently): the time spent waiting on moto.
    let inAwsMs = 0;
    let inFlight = 0;
    let busySince = 0;
    for (const client of [cloudwatch, ec2] as { middlewareStack: { add(m: unknown, o: unknown): void } }[]) {
      client.middlewareStack.add(
        (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
          if (inFlight++ === 0) busySince = performance.now();
          try {
            return await next(args);
          } finally {
            if (--inFlight === 0) inAwsMs += performance.now() - busySince;
          }
        },
        { step: 'initialize', name: 'benchTimeInAws' },
      );
    }
    // The scan's pages in instances, asked of moto in whole reservations (SEEDED_PER_RESERVATION).
    let pageSizes: number[] = [];
    (ec2 as { middlewareStack: { add(m: unknown, o: unknown): void } }).middlewareStack.add(
      (next: (args: { input: { MaxResults?: number } }) => Promise<unknown>) =>
        async (args: { input: { MaxResults?: number } }) => {
          const asked = args.input.MaxResults;
          if (asked === undefined) return next(args);
          pageSizes.push(asked);
          return next({ ...args, input: { ...args.input, MaxResults: reservationsFor(asked) } });
        },
      { step: 'initialize', name: 'benchPagesInReservations' },
    );
    const pageRange = () =>
      pageSizes.length === 0
        ? { min: 0, max: 0 }
        : { min: Math.min(...pageSizes), max: Math.max(...pageSizes) };
    const policy = {
      lookbackHours,
      cpuThresholdPercent: 5,
      networkThresholdBytesPerHour: 5_000_000,
      minCoverage: 0.9,
    };
    const rows: Row[] = [];

    for (const [i, n] of sizes.entries()) {
      progress(`  idle scan ${i + 1}/${sizes.length}: N = ${n}`);
      // One size's failure is stated in its row, and the other sizes still run.
      try {
        await moto.reset();
        const now = new Date();
        const seedStart = Date.now();
        await seedFleet(benchFleet(n, lookbackHours), { now });
        const seedMs = Date.now() - seedStart;

        // Batched: our gather, as the function runs it (dry-run: nothing is stopped).
        inAwsMs = 0;
        pageSizes = [];
        let start = performance.now();
        const scan = await scanFleet({ scope: 'opt-in', policy, maxStopsPerHour: 10, now });
        const batchedPages = pageRange();
        const batchedMs = performance.now() - start;
        const batchedInAwsMs = inAwsMs;
        const s = scan.scanStats;
        const empty = { timestamps: [], values: [] };
        const batchedIdle = scan.instances
          .filter((i) => screenInstance(i, 'opt-in') === undefined)
          .filter((i) => judgeCpu(scan.cpu.get(i.instanceId) ?? empty, policy).status === 'cpu-idle')
          .map((i) => i.instanceId)
          .sort();

        // Per instance: the same describe and screening, then one GetMetricStatistics per instance and metric.
        inAwsMs = 0;
        pageSizes = [];
        start = performance.now();
        const stats = { ...s, describePages: 0, metricCalls: 0, metricsRequested: 0 };
        const facts = await describeRunning(stats);
        const perInstancePages = pageRange();
        const inScope = facts.filter((i) => screenInstance(i, 'opt-in') === undefined);
        const window = lookbackWindow(now, lookbackHours);
        let statCalls = 0;
        const series = async (instanceId: string, metric: string, stat: 'Maximum' | 'Sum') => {
          statCalls++;
          const res = await cloudwatch.send(
            new GetMetricStatisticsCommand({
              Namespace: 'AWS/EC2',
              MetricName: metric,
              Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
              StartTime: window.start,
              EndTime: window.end,
              Period: 3600,
              Statistics: [stat],
            }),
          );
          const points = res.Datapoints ?? [];
          return {
            timestamps: points.map((p) => Math.floor((p.Timestamp?.getTime() ?? 0) / 1000)),
            values: points.map((p) => (stat === 'Maximum' ? p.Maximum : p.Sum) ?? Number.NaN),
          };
        };
        const cpu = await inParallel(inScope, concurrency, (i) =>
          series(i.instanceId, 'CPUUtilization', 'Maximum'),
        );
        const perInstanceIdle = inScope.filter(
          (_, k) => judgeCpu(cpu[k] ?? empty, policy).status === 'cpu-idle',
        );
        await inParallel(perInstanceIdle, concurrency, async (i) => {
          await series(i.instanceId, 'NetworkIn', 'Sum');
          await series(i.instanceId, 'NetworkOut', 'Sum');
        });
        const perInstanceMs = performance.now() - start;
        const perInstanceInAwsMs = inAwsMs;
        const agrees =
          JSON.stringify(perInstanceIdle.map((i) => i.instanceId).sort()) === JSON.stringify(batchedIdle);

        rows.push({
          approach: 'batched',
          instances: s.instancesRunning,
          inScope: s.instancesInScope,
          cpuIdle: s.cpuIdleCandidates,
          describeCalls: s.describePages,
          metricCalls: s.metricCalls,
          metricsRequested: s.metricsRequested,
          apiCalls: s.describePages + s.metricCalls,
          monthlyCloudWatchUsd: monthly(s.metricsRequested),
          wallMs: batchedMs,
          outsideAwsMs: batchedMs - batchedInAwsMs,
          failedPages: s.metricPagesFailed + s.describePagesFailed,
          seedMs,
          agrees,
          describePageInstances: batchedPages,
        });
        rows.push({
          approach: 'per-instance',
          instances: facts.length,
          inScope: inScope.length,
          cpuIdle: perInstanceIdle.length,
          describeCalls: stats.describePages,
          metricCalls: statCalls,
          metricsRequested: statCalls,
          apiCalls: stats.describePages + statCalls,
          monthlyCloudWatchUsd: monthly(statCalls),
          wallMs: perInstanceMs,
          outsideAwsMs: perInstanceMs - perInstanceInAwsMs,
          failedPages: 0,
          seedMs,
          agrees,
          describePageInstances: perInstancePages,
        });
      } catch (error) {
        const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        progress(`  idle scan N = ${n} failed: ${why}`);
        rows.push({ ...FAILED_ROW, instances: n, describePageInstances: pageRange(), error: why });
      }
    }
    return rows;
  } finally {
    await moto.stop();
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previousEndpoint;
  }
}

export function printIdleScanTable(rows: Row[]): void {
  const header = [
    'N',
    'approach',
    'in scope',
    'CPU-idle',
    'describe',
    'metric calls',
    'metrics',
    'API calls',
    'CW $/month (hourly)',
    'wall (moto)',
    'outside moto',
    'failed pages',
    'seed',
    'describe pages (instances)',
  ];
  const ok = rows.filter((r) => r.error === undefined);
  const cells = ok.map((r) => [
    String(r.instances),
    r.approach,
    String(r.inScope),
    String(r.cpuIdle),
    String(r.describeCalls),
    String(r.metricCalls),
    String(r.metricsRequested),
    String(r.apiCalls),
    `$${r.monthlyCloudWatchUsd.toFixed(2)}`,
    `${(r.wallMs / 1000).toFixed(1)} s`,
    `${(r.outsideAwsMs / 1000).toFixed(2)} s`,
    r.approach === 'batched' ? String(r.failedPages) : '-',
    `${(r.seedMs / 1000).toFixed(1)} s`,
    r.describePageInstances.min === r.describePageInstances.max
      ? `${r.describePageInstances.max}`
      : `${r.describePageInstances.min}-${r.describePageInstances.max}`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of cells) console.log(line(row));
  // A blank line ends the table: Markdown would otherwise take the notes below for rows.
  console.log('');
  console.log(
    "API calls are the scan's reads; a live run adds 1 StopInstances per 50 stops (+1 per stop-protected " +
      'refuser) and 1 CreateTags. For comparison, Cloud Custodian made 1,103 calls at N = 1,000 (as measured for the performance work; docs/performance.md).',
  );
  for (const r of rows) {
    if (r.error !== undefined) console.log(`N = ${r.instances}: FAILED, no figures: ${r.error}`);
  }
  console.log(
    'describe pages: the smallest and largest DescribeInstances page the scan asked for, in instances: the ' +
      'shipped scan asks 1,000 first; a first page not answered in half the 15 s request timeout is ' +
      "abandoned and the scan goes on from 200, sizing each next page from the last one's time (a fifth of " +
      "the request timeout, 50 to 1,000). moto counts MaxResults in reservations, so the bench's fleet is " +
      `launched ${SEEDED_PER_RESERVATION} instances a reservation and each page asked of moto in whole reservations ` +
      '(scripts/bench/idleScan.ts, reservationsFor).',
  );
  if (rows.some((r) => !r.agrees))
    console.log('WARNING: the two approaches disagree on the CPU-idle instances');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  printIdleScanTable(await benchIdleScan(sizes.length > 0 ? sizes : undefined));
}
