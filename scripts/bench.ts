/**
 * npm run bench: performance figures, each beside a baseline measured in the same run.
 *   cold start  per function, against an all-in bundle of the same dependencies
 * BENCH_RUNS sets the fresh processes per figure (default 5).
 */
import { createLocalStack } from '../test/support/localStack.ts';
import { startMoto, useMotoEnvironment } from '../test/support/moto.ts';
import { type BenchFunction, benchColdStart, printColdStartTable } from './bench/coldStart.ts';

const FUNCTIONS: BenchFunction[] = [
  {
    name: 'onAlarm',
    entry: 'functions/onAlarm/handler.ts',
    fixture: 'onAlarm/metric-alarm.json',
    heavy: false,
  },
];

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
