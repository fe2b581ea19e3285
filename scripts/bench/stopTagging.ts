import { pathToFileURL } from 'node:url';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { type InstanceGroup, seedFleet } from '../../tools/local/fleet.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';

/**
 * Calls per stop: a run's idle instances each have their own CPU figures. The executor tags them with
 * one ops:stop-reason for the run (the rule and thresholds; the figures go to the action log), beside the
 * tagging it replaced, one CreateTags call per distinct per-instance sentence, measured on the same
 * stopped instances in the same moto. Call counts do not depend on the emulator.
 */
export interface StopTaggingRow {
  stops: number;
  stopCalls: number;
  tagCalls: number;
  perInstanceTagCalls: number;
}

const LOOKBACK_HOURS = 3;

/** k idle, opted-in instances, each with its own CPU maximum between 0.1 % and 4.9 %. */
function distinctIdleFleet(k: number): InstanceGroup[] {
  return Array.from({ length: k }, (_, j) => ({
    name: `idle-${j}`,
    tags: { 'ops:auto-stop': 'true' },
    cpu: { hours: LOOKBACK_HOURS, value: 0.1 + (j % 49) / 10 },
    network: { hours: LOOKBACK_HOURS, value: 20_000 + j },
    instanceType: 't3.medium',
  }));
}

export async function benchStopTagging(sizes = [10, 100, 500]): Promise<StopTaggingRow[]> {
  const moto: Moto = await startMoto();
  const previous = {
    endpoint: process.env.AWS_ENDPOINT_URL,
    table: process.env.STATE_TABLE_NAME,
  };
  useMotoEnvironment(moto.endpoint);
  try {
    const { scanFleet } = await import('#shared/idle/gather.ts');
    const { decideFleet } = await import('#shared/idle/fleet.ts');
    const { stopTagReason } = await import('#shared/idle/plan.ts');
    const { stopInstancesExecutor, truncateTagValue, STOPPED_BY } = await import(
      '#shared/executors/stopInstances.ts'
    );
    const { ec2 } = await import('#shared/aws/ec2.ts');
    const calls = new Map<string, number>();
    ec2.middlewareStack.add(
      (next, context) => (args) => {
        calls.set(context.commandName ?? '?', (calls.get(context.commandName ?? '?') ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchCountEc2Calls' },
    );
    const policy = {
      lookbackHours: LOOKBACK_HOURS,
      cpuThresholdPercent: 5,
      networkThresholdBytesPerHour: 5_000_000,
      minCoverage: 0.9,
    };
    const rows: StopTaggingRow[] = [];
    for (const k of sizes) {
      await moto.reset();
      const stack = await createLocalStack('ops-autopilot-bench-tags');
      process.env.STATE_TABLE_NAME = stack.tableName;
      const now = new Date();
      await seedFleet(distinctIdleFleet(k), { now });
      const scan = await scanFleet({ scope: 'opt-in', policy, maxStopsPerHour: k, now });
      const stops = decideFleet({ ...scan, policy, scope: 'opt-in', maxStopsPerHour: k }).filter(
        (v) => v.decision === 'stop',
      );
      calls.clear();
      const outcome = await stopInstancesExecutor.execute(
        {
          kind: 'ec2.stop-instances',
          instances: stops.map((v) => ({ instanceId: v.instanceId, reason: v.reason })),
          reason: 'bench',
          tagReason: stopTagReason(policy, `bench-${k}`),
          maxStopsPerHour: k,
        },
        { signal: { correlationId: `bench-${k}` } } as never,
      );
      if (outcome.status !== 'done') throw new Error(`bench: the stops failed: ${outcome.detail}`);
      const stopCalls = calls.get('StopInstancesCommand') ?? 0;
      const tagCalls = calls.get('CreateTagsCommand') ?? 0;
      // The replaced tagging: each instance's own sentence as its tag, one call per distinct sentence.
      const bySentence = new Map<string, string[]>();
      for (const v of stops) {
        const sentence = truncateTagValue(v.reason);
        bySentence.set(sentence, [...(bySentence.get(sentence) ?? []), v.instanceId]);
      }
      calls.clear();
      for (const [sentence, ids] of bySentence) {
        await ec2.send(
          new CreateTagsCommand({
            Resources: ids,
            Tags: [
              { Key: 'ops:stopped-by', Value: STOPPED_BY },
              { Key: 'ops:stop-reason', Value: sentence },
            ],
          }),
        );
      }
      rows.push({
        stops: stops.length,
        stopCalls,
        tagCalls,
        perInstanceTagCalls: calls.get('CreateTagsCommand') ?? 0,
      });
    }
    return rows;
  } finally {
    await moto.stop();
    if (previous.endpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = previous.endpoint;
    if (previous.table === undefined) delete process.env.STATE_TABLE_NAME;
    else process.env.STATE_TABLE_NAME = previous.table;
  }
}

export function printStopTaggingTable(rows: StopTaggingRow[]): void {
  console.log(
    '| stops | StopInstances calls | CreateTags calls (one tag per run) | CreateTags calls (a tag per instance, replaced) |',
  );
  console.log('|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.stops} | ${r.stopCalls} | ${r.tagCalls} | ${r.perInstanceTagCalls} |`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = (process.env.STOP_TAGGING_SIZES ?? '10,100,500')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  console.log('');
  printStopTaggingTable(await benchStopTagging(sizes));
}
