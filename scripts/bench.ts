/**
 * npm run bench: performance figures, each beside a baseline measured in the same run.
 *   cold start  per function, against an all-in bundle of the same dependencies
 *   idle scan   batched (ours) against one metrics call per instance, on the same moto fleet
 * BENCH_RUNS sets the fresh processes per cold-start figure (default 5); BENCH_IDLE_SIZES the fleet
 * sizes (default 100,1000,5000; the 5000 case takes about five minutes, most of it moto).
 */
import { registry } from '#functions/index.ts';
import { createLocalStack } from '../test/support/localStack.ts';
import { startMoto, useMotoEnvironment } from '../test/support/moto.ts';
import { type BenchFunction, benchColdStart, printColdStartTable } from './bench/coldStart.ts';
import { benchIdleScan, printIdleScanTable } from './bench/idleScan.ts';
import { benchStopTagging, printStopTaggingTable } from './bench/stopTagging.ts';

const FUNCTIONS: BenchFunction[] = registry.map(({ name, deployment }) => ({
  name,
  entry: `functions/${name}/handler.ts`,
  fixture: deployment.sampleFixture,
  heavy: deployment.heavyBundle,
}));

const moto = await startMoto();
try {
  useMotoEnvironment(moto.endpoint);
  const stack = await createLocalStack('ops-autopilot-bench');
  // Dry-run: the first invocation reads tags, writes state and pages, but starts no runbook (moto has none).
  const env = {
    ...process.env,
    STAGE: 'dev',
    DRY_RUN: 'true',
    STATE_TABLE_NAME: stack.tableName,
    PAGE_TOPIC_ARN: stack.topicArn,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const rows = await benchColdStart(FUNCTIONS, env, runs);
  printColdStartTable(rows, FUNCTIONS);
} finally {
  await moto.stop();
}

const sizes = (process.env.BENCH_IDLE_SIZES ?? '100,1000,5000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
console.log(
  `\nIdle scan at N = ${sizes.join(', ')} (moto; lookback 3 h to keep moto's GetMetricData tractable)\n`,
);
printIdleScanTable(await benchIdleScan(sizes));

console.log('\nCalls per stop: a run of idle instances, each with its own CPU figures (moto)\n');
printStopTaggingTable(await benchStopTagging());
