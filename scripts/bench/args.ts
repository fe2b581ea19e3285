/**
 * The bench's command line. An argument it does not know is refused: an unknown one (`--help` once) used
 * to start the full bench, a quarter of an hour that then rewrites docs/performance.md.
 */
export const BENCH_FLAGS = {
  '--quick': 'the shipped build and its baseline only, a fleet of 100, a storm of 100 (or BENCH_QUICK=1)',
  '--cold-start': 'the cold-start part alone (BENCH_RUNS rounds, at least 7)',
  '--idle-scan': 'the idle-scan part alone (BENCH_IDLE_SIZES, e.g. 1000,5000)',
  '--storm': 'the event storm alone (STORM_EVENTS; with --quick, 100 deliveries)',
  '--calls': 'the calls-per-event table alone',
  '--org-scan': "an organization's idle-scan fan-out over 50 simulated accounts (ORG_SCAN_ACCOUNTS)",
  '--write': 'write a quick or partial run into docs/performance.md (a full run always does)',
  '--help': 'this list',
} as const;

export type BenchFlag = keyof typeof BENCH_FLAGS;

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export function parseBenchArgs(args: readonly string[]): Set<BenchFlag> {
  const unknown = args.filter((a) => !Object.hasOwn(BENCH_FLAGS, a));
  if (unknown.length > 0)
    throw new BenchUsageError(
      `bench: unknown argument(s) ${unknown.join(' ')}; npm run bench -- --help lists them`,
    );
  return new Set(args as BenchFlag[]);
}

export function benchUsage(): string {
  const width = Math.max(...Object.keys(BENCH_FLAGS).map((f) => f.length));
  return [
    'npm run bench [-- flags]: cold start, idle scan, event storm, calls per event and organization scan;',
    'part flags combine (--cold-start --storm runs those two). Flags:',
    ...Object.entries(BENCH_FLAGS).map(([flag, what]) => `  ${flag.padEnd(width)}  ${what}`),
  ].join('\n');
}
