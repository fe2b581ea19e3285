/**
 * npm run bench: performance figures, each beside a baseline measured in the same run.
 *   cold start  per function, against an all-in bundle of the same dependencies
 *   idle scan   batched (ours) against one metrics call per instance, on the same moto fleet
 *   storm       1000 mixed deliveries with duplicates and flapping alarms, with and without deduplication
 * Takes about a quarter of an hour here (2 shared cores), most of it moto. Quick mode (`npm run bench --
 * --quick` or BENCH_QUICK=1): the shipped build and its baseline only, a fleet of 100, a storm of 100.
 * `npm run bench -- --cold-start`: the cold-start part alone (with --quick: shipped build and baseline).
 * `npm run bench -- --idle-scan`: the idle-scan part alone (BENCH_IDLE_SIZES, e.g. 1000,5000); a size that
 * fails is stated in its section and the others still run.
 * `npm run bench -- --calls`: the calls-per-event table alone (also part of the default run, after the storm).
 * `npm run bench -- --storm`: the event storm alone (STORM_EVENTS; with --quick, 100 deliveries).
 * `npm run bench -- --org-scan`: an organization's idle-scan fan-out over 50 simulated accounts, one of
 *   them broken (ORG_SCAN_ACCOUNTS; with --quick, 10).
 * Part flags combine: `--cold-start --storm` runs those two parts, in the default order.
 * BENCH_RUNS sets the rounds of fresh processes per cold-start figure (default and minimum 7),
 * BENCH_IDLE_SIZES the fleet sizes (default 100,1000,5000), STORM_EVENTS the storm's deliveries
 * (default 1000).
 * A full run writes its sections into the generated block of docs/performance.md (scripts/bench/report.ts),
 * each with the date, the command and the machine, keeping the sections of parts it did not run; a quick
 * or partial run prints only, unless given --write.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { registry } from '#functions/index.ts';
import { createLocalStack } from '../tools/local/localStack.ts';
import { startMoto, useMotoEnvironment } from '../tools/local/moto.ts';
import { BenchUsageError, benchUsage, parseBenchArgs } from './bench/args.ts';
import {
  type BenchFunction,
  benchColdStart,
  MIN_COLD_START_RUNS,
  printColdStartTable,
} from './bench/coldStart.ts';
import { benchIdleScan, printIdleScanTable } from './bench/idleScan.ts';
import {
  type BenchSection,
  capturePrinted,
  printedLines,
  thisMachine,
  writeBenchBlock,
} from './bench/report.ts';

let flags: ReturnType<typeof parseBenchArgs>;
try {
  flags = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof BenchUsageError)) throw error;
  console.error(`${error.message}\n\n${benchUsage()}`);
  process.exit(2);
}
if (flags.has('--help')) {
  console.log(benchUsage());
  process.exit(0);
}
const quick = flags.has('--quick') || process.env.BENCH_QUICK === '1';
const coldStartOnly = flags.has('--cold-start');
const idleScanOnly = flags.has('--idle-scan');
const callsOnly = flags.has('--calls');
const stormOnly = flags.has('--storm');
const orgScanOnly = flags.has('--org-scan');
// Taken before the bench loads the machine itself.
const machine = thisMachine();
const startedAt = new Date();
const sections: BenchSection[] = [];
const partial = coldStartOnly || idleScanOnly || callsOnly || stormOnly || orgScanOnly;
const write = flags.has('--write') || (!quick && !partial);
const PAGE = join(import.meta.dirname, '..', 'docs', 'performance.md');
const writePage = () => {
  if (!write) return;
  const args = process.argv.slice(2);
  const command = args.length > 0 ? `npm run bench -- ${args.join(' ')}` : 'npm run bench';
  writeBenchBlock(PAGE, { date: startedAt, machine, command, sections });
  console.log(`\ndocs/performance.md: ${sections.length} section(s) written into the generated block`);
};
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const progress = (line: string) => console.log(`[${elapsed()}] ${line}`);

const FUNCTIONS: BenchFunction[] = registry.map(({ name, deployment }) => ({
  name,
  entry: `functions/${name}/handler.ts`,
  fixture: deployment.sampleFixture,
}));

const sizes = (process.env.BENCH_IDLE_SIZES ?? (quick ? '100' : '100,1000,5000'))
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
// Each in its own process: it starts its own moto, and the SDK clients are built on import, pointing at
// the emulator of the process that imported them first. Its output is shown and kept for the page.
const runScript = (script: string, env: Record<string, string>) =>
  new Promise<{ code: number; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bench', script)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output += chunk.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });

const runs = (part: boolean) => !partial || part;
const exits: { part: string; code: number }[] = [];
const parts = [
  runs(coldStartOnly) && 'cold start',
  runs(idleScanOnly) && 'idle scan',
  runs(stormOnly) && 'event storm',
  runs(callsOnly) && 'calls per event',
  runs(orgScanOnly) && 'organization scan',
].filter((p): p is string => p !== false);
console.log(
  `bench${quick ? ' (quick)' : ''}: ${parts.map((p, k) => `${k + 1}/${parts.length} ${p}`).join(', ')}`,
);
const step = (part: string) => `${parts.indexOf(part) + 1}/${parts.length}`;

if (runs(coldStartOnly)) {
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
    const rounds = Math.max(MIN_COLD_START_RUNS, Number(process.env.BENCH_RUNS ?? MIN_COLD_START_RUNS) || 0);
    progress(
      `${step('cold start')} cold start: ${FUNCTIONS.length} functions${quick ? ', shipped build and baseline only' : ''}`,
    );
    const rows = await benchColdStart(FUNCTIONS, env, rounds, progress, quick);
    const { lines } = await capturePrinted(() => printColdStartTable(rows, FUNCTIONS));
    sections.push({ title: `Cold start (${rounds} rounds per build)`, lines, fenced: true });
  } finally {
    await moto.stop();
  }
}

if (runs(idleScanOnly)) {
  progress(
    `${step('idle scan')} idle scan at N = ${sizes.join(', ')} (moto; lookback 3 h to keep moto's GetMetricData tractable)`,
  );
  // A failure outside the sizes (moto does not start) is written as this section, not lost with the process.
  const idle = await benchIdleScan(sizes, {}, progress).catch((error: unknown) => {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    exits.push({ part: 'idle scan', code: 1 });
    return why;
  });
  console.log('');
  sections.push({
    title: `Idle scan (N = ${sizes.join(', ')})`,
    lines:
      typeof idle === 'string'
        ? [`The idle scan bench failed, no figures: ${idle}`]
        : (await capturePrinted(() => printIdleScanTable(idle))).lines,
  });
  if (typeof idle !== 'string' && idle.some((r) => r.error !== undefined))
    exits.push({ part: 'idle scan (a size failed, stated in its section)', code: 1 });
  if (!partial) {
    progress(
      `${step('idle scan')} calls per stop: a run of idle instances, each with its own CPU figures (moto)`,
    );
    const tagging = await runScript('stopTagging.ts', { STOP_TAGGING_SIZES: quick ? '10' : '10,100,500' });
    exits.push({ part: 'calls per stop', code: tagging.code });
    sections.push({ title: 'Calls per stop', lines: printedLines(tagging.output) });
  }
}

if (runs(stormOnly)) {
  const stormEvents = process.env.STORM_EVENTS ?? (quick ? '100' : '1000');
  progress(`${step('event storm')} event storm: ${stormEvents} deliveries`);
  const storm = await runScript('storm.ts', { STORM_EVENTS: stormEvents });
  exits.push({ part: 'event storm (its check, above)', code: storm.code });
  sections.push({
    title: `Event storm (${stormEvents} deliveries)`,
    lines: printedLines(storm.output),
    fenced: true,
  });
}

if (runs(callsOnly)) {
  progress(
    `${step('calls per event')} calls per typical event, beside the floor (moto, through a counting proxy)`,
  );
  const calls = await runScript('calls.ts', {});
  exits.push({ part: 'calls per event', code: calls.code });
  sections.push({ title: 'Calls per typical event', lines: printedLines(calls.output) });
}

if (runs(orgScanOnly)) {
  const accounts = process.env.ORG_SCAN_ACCOUNTS ?? (quick ? '10' : '50');
  progress(
    `${step('organization scan')} organization idle scan: ${accounts} simulated accounts in moto, one broken`,
  );
  const org = await runScript('orgScan.ts', { ORG_SCAN_ACCOUNTS: accounts });
  exits.push({ part: 'organization scan (its check, above)', code: org.code });
  sections.push({
    title: `Organization idle scan (${accounts} accounts, one broken)`,
    lines: printedLines(org.output),
  });
}

writePage();
console.log(`\nbench took ${elapsed()}`);
for (const { part, code } of exits) if (code !== 0) console.log(`the ${part} part failed`);
process.exitCode = exits.find((e) => e.code !== 0)?.code ?? 0;
