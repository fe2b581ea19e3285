import {
  CloudWatchClient,
  type GetMetricDataCommandInput,
  type MetricDataResult,
  type MetricDatum,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  type _InstanceType,
  CreateImageCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyImageAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';

/**
 * Seeds a fleet in moto: running instances with tags, and hourly CPUUtilization, NetworkIn and NetworkOut
 * datapoints for the hours before `now`. Its own clients, so a test counting calls on the shared clients
 * counts only the code under test.
 */

/** A moto default AMI (EBS root). moto also accepts made-up ids, but a listed one keeps seeding honest. */
export const DEFAULT_AMI = 'ami-03cf127a';
/** moto 5.2 fails PutMetricData calls with 100 datapoints or more. */
const DATAPOINTS_PER_PUT = 50;
/** RunInstances in moto costs ~4 ms per instance; bigger calls only mean fewer reservations. */
const INSTANCES_PER_RUN = 250;
const HOUR_MS = 3_600_000;

export interface HourlyLoad {
  /** Datapoints for this many whole hours before now (the most recent first). */
  hours: number;
  value: number;
  /** Hours, counted back from now (1 = the last whole hour), where the value is `peak` instead. */
  peakHours?: number[];
  peak?: number;
}

export interface InstanceGroup {
  /** The name tests look the instance ids up by. */
  name: string;
  count?: number;
  instanceType?: string;
  tags?: Record<string, string>;
  disableApiStop?: boolean;
  spot?: boolean;
  imageId?: string;
  /** Hourly CPU (percent); none: no datapoints at all. */
  cpu?: HourlyLoad;
  /** Bytes per hour in each direction (NetworkIn and NetworkOut each get this value). */
  network?: HourlyLoad;
  /** Instances per RunInstances call (one reservation each); default 250. */
  perReservation?: number;
}

export interface SeededFleet {
  ids: Record<string, string[]>;
  all: string[];
  runCalls: number;
  putCalls: number;
  datapoints: number;
  runMs: number;
  putMs: number;
}

export interface SeedOptions {
  now?: Date;
  /** Requests in flight at once. */
  concurrency?: number;
}

/** Runs `work` over `items` with at most `limit` promises in flight, keeping result order. */
export async function inParallel<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      results[k] = await work(items[k] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function datapoints(
  instanceId: string,
  metric: string,
  load: HourlyLoad,
  unit: 'Percent' | 'Bytes',
  lastHour: number,
) {
  const peaks = new Set(load.peakHours ?? []);
  return Array.from({ length: load.hours }, (_, k): MetricDatum => {
    const hoursBack = k + 1;
    return {
      MetricName: metric,
      Dimensions: [{ Name: 'InstanceId', Value: instanceId }],
      // Mid-hour, so the datapoint falls in its hour however the window is aligned.
      Timestamp: new Date(lastHour - hoursBack * HOUR_MS + HOUR_MS / 2),
      Value: peaks.has(hoursBack) ? (load.peak ?? load.value) : load.value,
      Unit: unit,
    };
  });
}

export async function seedFleet(groups: InstanceGroup[], options: SeedOptions = {}): Promise<SeededFleet> {
  const ec2 = new EC2Client({});
  const cloudwatch = new CloudWatchClient({});
  const concurrency = options.concurrency ?? 8;
  const lastHour = Math.floor((options.now ?? new Date()).getTime() / HOUR_MS) * HOUR_MS;

  const runs = groups.flatMap((group) => {
    const count = group.count ?? 1;
    const size = group.perReservation ?? INSTANCES_PER_RUN;
    return Array.from({ length: Math.ceil(count / size) }, (_, k) => ({
      group,
      count: Math.min(size, count - k * size),
    }));
  });
  const runStart = Date.now();
  const launched = await inParallel(runs, concurrency, async ({ group, count }) => {
    const tags = Object.entries(group.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const res = await ec2.send(
      new RunInstancesCommand({
        ImageId: group.imageId ?? DEFAULT_AMI,
        InstanceType: (group.instanceType ?? 't3.micro') as _InstanceType,
        MinCount: count,
        MaxCount: count,
        ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] } : {}),
        ...(group.disableApiStop ? { DisableApiStop: true } : {}),
        ...(group.spot ? { InstanceMarketOptions: { MarketType: 'spot' } } : {}),
      }),
    );
    return { group, ids: (res.Instances ?? []).map((i) => i.InstanceId as string) };
  });
  const runMs = Date.now() - runStart;

  const ids: Record<string, string[]> = {};
  const data: MetricDatum[] = [];
  for (const { group, ids: launchedIds } of launched) {
    ids[group.name] = [...(ids[group.name] ?? []), ...launchedIds];
    for (const id of launchedIds) {
      if (group.cpu) data.push(...datapoints(id, 'CPUUtilization', group.cpu, 'Percent', lastHour));
      if (group.network) {
        data.push(...datapoints(id, 'NetworkIn', group.network, 'Bytes', lastHour));
        data.push(...datapoints(id, 'NetworkOut', group.network, 'Bytes', lastHour));
      }
    }
  }
  const batches: MetricDatum[][] = [];
  for (let from = 0; from < data.length; from += DATAPOINTS_PER_PUT)
    batches.push(data.slice(from, from + DATAPOINTS_PER_PUT));
  const putStart = Date.now();
  await inParallel(batches, concurrency, (MetricData) =>
    cloudwatch.send(new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData })),
  );
  ec2.destroy();
  cloudwatch.destroy();
  return {
    ids,
    all: Object.values(ids).flat(),
    runCalls: runs.length,
    putCalls: batches.length,
    datapoints: data.length,
    runMs,
    putMs: Date.now() - putStart,
  };
}

/** The id of a group with exactly one instance. */
export function only(fleet: SeededFleet, name: string): string {
  const [id, ...rest] = fleet.ids[name] ?? [];
  if (!id || rest.length > 0)
    throw new Error(`group ${name} has ${(fleet.ids[name] ?? []).length} instances, not one`);
  return id;
}

/**
 * A GetMetricData answer for client mocks: one datapoint per hour of the asked window for every query,
 * valued by `hourlyValue(metric name, instance id)`, as CloudWatch answers an instance's hourly metrics.
 */
export function hourlyMetricAnswer(hourlyValue: (metricName: string, instanceId: string) => number) {
  return (input: GetMetricDataCommandInput) => {
    const start = (input.StartTime as Date).getTime();
    const hours = Math.round(((input.EndTime as Date).getTime() - start) / 3_600_000);
    const times = Array.from({ length: hours }, (_, h) => new Date(start + h * 3_600_000));
    const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
      const value = hourlyValue(
        q.MetricStat?.Metric?.MetricName ?? '',
        q.MetricStat?.Metric?.Dimensions?.[0]?.Value ?? '',
      );
      return { Id: q.Id, StatusCode: 'Complete', Timestamps: times, Values: times.map(() => value) };
    });
    return { MetricDataResults: results };
  };
}

/** What moto holds now: every instance's state and tags, by id (its own client, not counted). */
export async function instanceStates(): Promise<
  Map<string, { state: string; tags: Record<string, string> }>
> {
  const ec2 = new EC2Client({});
  const res = await ec2.send(new DescribeInstancesCommand({}));
  ec2.destroy();
  const seen = new Map<string, { state: string; tags: Record<string, string> }>();
  for (const r of res.Reservations ?? []) {
    for (const i of r.Instances ?? []) {
      seen.set(i.InstanceId as string, {
        state: i.State?.Name ?? '?',
        tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value])),
      });
    }
  }
  return seen;
}

/**
 * An AMI made from a seeded instance and shared with every AWS account, as the AMI-made-public
 * fixtures record: the demo plays the fixtures' AMI as this one, so the remediation removes a real
 * share. (moto answers DescribeImageAttribute on an AMI it does not have with a 500, where EC2 says
 * InvalidAMIID.NotFound.)
 */
export async function seedPublicImage(instanceId: string): Promise<string> {
  const ec2 = new EC2Client({});
  try {
    const { ImageId } = await ec2.send(
      new CreateImageCommand({ InstanceId: instanceId, Name: 'demo-public-ami' }),
    );
    if (!ImageId) throw new Error('moto made no image');
    await ec2.send(
      new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ Group: 'all' }] } }),
    );
    return ImageId;
  } finally {
    ec2.destroy();
  }
}
