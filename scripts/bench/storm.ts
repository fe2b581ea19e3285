/**
 * Event storm: a mixed stream of EventBridge deliveries built from every registry function's fixtures
 * (distinct incidents, duplicate deliveries, flapping alarms), replayed in process against moto twice:
 * as deployed, and with deduplication (idempotency and the suppression window) switched off. Prints
 * events/s, p50/p99 per delivery, pages and actions beside what the stream should give, and exits 1
 * when the normal run differs from it.
 *
 * Run alone: `tsx scripts/bench/storm.ts` (STORM_EVENTS, default 1000). `npm run bench` runs it in its
 * own process, since clients and the idempotency layer are built on import against one moto.
 *
 * What "expected" is, computed without the storm: each distinct incident's events delivered once, one
 * at a time, on fresh identities (calibration). The storm then adds duplicates (1 to 5 deliveries of
 * an event, some at once) and concurrency between incidents; it must change nothing.
 *
 * Concurrency: moto applies DynamoDB conditional writes non-atomically under concurrent requests, while
 * DynamoDB applies the writes to one item one at a time. The bench holds a state-table call only where
 * moto needs it (stormCounters.ts: behind earlier calls on its items; transactions and queries apart
 * from writes), and reports how long each delivery was held there beside its latency.
 * `STORM_STATE_QUEUE=global` sends them one at a time instead, for comparison.
 *
 * Calls per delivery: every AWS call the functions make (state table, pages, actions, reads), counted
 * as the SDK sends it, divided by the deliveries.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { registry } from '#functions/index.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { seedFleet } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { seededRandom } from '../../tools/local/random.ts';
import { isEventBridgeEvent } from '../../tools/local/routing.ts';

type Handler = (event: unknown, context: ReturnType<typeof makeContext>) => Promise<unknown>;

/** One incident: its events in order (one, or a flapping alarm's ALARM, OK, ALARM), each delivered 1 to 5 times. */
interface Incident {
  fn: string;
  template: string;
  n: number;
  steps: { deliveries: number; together: boolean }[];
}

import {
  installCounters,
  type QueueWait,
  sendStateTableCallsOnePerItem,
  type Tally,
  withQueueWait,
} from './stormCounters.ts';
import { asIncident, type Event, flap } from './stormStream.ts';

interface RunFigures extends Tally {
  label: string;
  deliveries: number;
  /** Every AWS call of the run. */
  calls: number;
  wallMs: number;
  p50: number;
  p99: number;
  refusedInProgress: number;
  errors: string[];
  /** Median and 99th percentile of the time a delivery's state-table calls were held by the bench's queue. */
  waitP50: number;
  waitP99: number;
  /** The slowest 1 % of deliveries (at or above p99): their mean time, and the mean of it held in the queue. */
  slowestMs: number;
  slowestWaitMs: number;
}

const FIXTURE_INSTANCE = 'i-0abc1234def567890';
const FLAP_TEMPLATE = 'onAlarm/metric-alarm.json';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export interface StormOptions {
  events: number;
  concurrency: number;
  seed: number;
  /** How the bench holds state-table calls moto cannot take at once (stormCounters.ts). */
  stateQueue: 'item' | 'global';
  progress: (line: string) => void;
}

export interface StormResult {
  distinct: number;
  expected: Tally;
  runs: RunFigures[];
  excluded: string[];
  stateQueue: StormOptions['stateQueue'];
}

export async function benchStorm(options: StormOptions): Promise<StormResult> {
  const moto = await startMoto();
  try {
    useMotoEnvironment(moto.endpoint);
    const stack = await createLocalStack('ops-autopilot-storm');
    // The dev stage with the rate guard at its ceiling: the storm measures deduplication, and 1000
    // deliveries of a few rules would otherwise trip it (it has its own tests). A stage of the bench's
    // own, added in this process only; config/stages.ts is unchanged.
    const { stages } = await import('#config/stages.ts');
    const dev = stages.dev;
    if (!dev) throw new Error('storm: config/stages.ts has no dev stage');
    stages.storm = { ...dev, rateGuard: { maxActions: 1000, windowMinutes: 1440 } };
    Object.assign(process.env, {
      STAGE: 'storm',
      DRY_RUN: 'false',
      STATE_TABLE_NAME: stack.tableName,
      PAGE_TOPIC_ARN: stack.topicArn,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    // The alarm fixtures' instance, seeded and opted in, so runbook rules reach their (counted) start.
    const fleet = await seedFleet([
      { name: 'web', count: 1, tags: { 'ops:auto-remediate': 'true' }, cpu: { hours: 2, value: 60 } },
    ]);
    const instance = fleet.ids.web?.[0] ?? FIXTURE_INSTANCE;
    const { resetConfigForTests } = await import('#shared/config.ts');
    resetConfigForTests();
    // A state table of its own for each phase (calibration, each run): moto's transaction copies the
    // whole table, so a run that inherited the previous one's records would pay for them.
    const freshTable = async (phase: string) => {
      const s = await createLocalStack(`ops-autopilot-storm-${phase}`);
      Object.assign(process.env, { STATE_TABLE_NAME: s.tableName, PAGE_TOPIC_ARN: s.topicArn });
      resetConfigForTests();
    };
    const { setDeduplicationForBench } = await import('#shared/runtime/deduplication.ts');
    const handlers = new Map<string, Handler>();
    for (const entry of registry) handlers.set(entry.name, (await entry.loadHandler()) as Handler);
    await sendStateTableCallsOnePerItem(options.stateQueue);
    const counters = await installCounters();

    const templates = registry.flatMap(({ name }) =>
      listFixtures()
        .filter((f) => f.startsWith(`${name}/`) && !f.includes('/invalid/'))
        .map((f) => ({ fn: name, path: f, event: loadFixture(f) as unknown }))
        .filter((t): t is { fn: string; path: string; event: Event } => isEventBridgeEvent(t.event))
        .map((t) => ({
          ...t,
          event: JSON.parse(JSON.stringify(t.event).replaceAll(FIXTURE_INSTANCE, instance)) as Event,
        })),
    );

    const deliver = async (
      fn: string,
      event: Event,
      wait?: QueueWait,
    ): Promise<'ok' | 'in-progress' | string> => {
      const handler = handlers.get(fn);
      if (!handler) return `no handler for ${fn}`;
      try {
        // Each incident is another account's, so it goes to that account's stack: a function refuses
        // an event of another account or region than its own.
        const context = makeContext(`ops-autopilot-storm-${fn}`);
        context.invokedFunctionArn = `arn:aws:lambda:${String(event.region)}:${String(event.account)}:function:${context.functionName}`;
        const copy = structuredClone(event);
        await (wait ? withQueueWait(wait, () => handler(copy, context)) : handler(copy, context));
        return 'ok';
      } catch (error) {
        const name = (error as Error).name;
        // Lambda retries it; the retry finds the stored result of the delivery that held the event.
        if (name === 'IdempotencyAlreadyInProgressError') return 'in-progress';
        return `${name}: ${(error as Error).message}`;
      }
    };

    // Calibration: each template once, one at a time, as a fresh incident. A template its function
    // refuses (not an event it handles, e.g. a state it is not routed) is left out of the stream.
    options.progress(`calibrating ${templates.length} fixtures and one flapping alarm, one delivery each`);
    const perTemplate = new Map<string, Tally>();
    const excluded: string[] = [];
    const measure = async (fn: string, events: Event[]): Promise<Tally | string> => {
      counters.reset();
      for (const e of events) {
        const r = await deliver(fn, e);
        if (r !== 'ok') return r;
      }
      return { ...counters.tally };
    };
    // Calibration identities (accounts from 900000 on) are apart from both runs' (1 on, 500001 on).
    for (const [k, t] of templates.entries()) {
      const r = await measure(t.fn, [asIncident(t.event, 900_000 + k, t.path)]);
      if (typeof r === 'string') excluded.push(`${t.path} (${r.split(':')[0]})`);
      else perTemplate.set(t.path, r);
    }
    const flapTemplate = templates.find((t) => t.path === FLAP_TEMPLATE);
    let flapTally: Tally | undefined;
    if (flapTemplate) {
      const r = await measure('onAlarm', flap(asIncident(flapTemplate.event, 899_999, 'flap')));
      if (typeof r === 'string') throw new Error(`the flapping alarm could not be calibrated: ${r}`);
      flapTally = r;
    }
    const usable = templates.filter((t) => perTemplate.has(t.path));

    // The stream: 80 % first deliveries of distinct incidents (every 10th a flapping alarm), 20 % duplicates.
    const random = seededRandom(options.seed);
    const incidents: Incident[] = [];
    const firsts = Math.round(options.events * 0.8);
    let planned = 0;
    for (let n = 1; planned < firsts; n++) {
      const t = usable[n % usable.length];
      if (!t) throw new Error('no fixture can be replayed');
      const flapping = flapTemplate !== undefined && n % 10 === 0 && planned + 3 <= firsts;
      const count = flapping ? 3 : 1;
      incidents.push({
        fn: flapping ? 'onAlarm' : t.fn,
        template: flapping ? 'flap' : t.path,
        n,
        steps: Array.from({ length: count }, () => ({ deliveries: 1, together: false })),
      });
      planned += count;
    }
    const byPath = new Map(templates.map((t) => [t.path, t.event]));
    // The incident's events; `base` moves every identity, so the second run meets none of the first's records.
    const eventsOf = (i: Incident, base: number): Event[] => {
      if (i.template === 'flap' && flapTemplate)
        return flap(asIncident(flapTemplate.event, base + i.n, 'flap'));
      const template = byPath.get(i.template);
      return template ? [asIncident(template, base + i.n, i.template)] : [];
    };
    const steps = incidents.flatMap((i) => i.steps);
    for (let extra = options.events - planned; extra > 0; ) {
      const s = steps[Math.floor(random() * steps.length)];
      if (!s || s.deliveries >= 5) continue;
      s.deliveries++;
      extra--;
    }
    for (const s of steps) s.together = s.deliveries > 1 && random() < 0.5;
    const expected: Tally = { pages: 0, resolves: 0, actions: 0 };
    for (const i of incidents) {
      const t = i.template === 'flap' ? flapTally : perTemplate.get(i.template);
      expected.pages += t?.pages ?? 0;
      expected.resolves += t?.resolves ?? 0;
      expected.actions += t?.actions ?? 0;
    }
    const total = steps.reduce((sum, s) => sum + s.deliveries, 0);

    const replay = async (label: string, base: number): Promise<RunFigures> => {
      await freshTable(label.replaceAll(' ', '-'));
      counters.reset();
      const latencies: number[] = [];
      const held: number[] = [];
      const errors: string[] = [];
      let refusedInProgress = 0;
      let done = 0;
      let nextReport = 0;
      const timed = async (fn: string, event: Event) => {
        const start = performance.now();
        const wait: QueueWait = { ms: 0 };
        const r = await deliver(fn, event, wait);
        latencies.push(performance.now() - start);
        held.push(wait.ms);
        if (r === 'in-progress') refusedInProgress++;
        else if (r !== 'ok') errors.push(r);
        done++;
        if (done >= nextReport) {
          options.progress(`  ${label}: ${done}/${total}`);
          nextReport += Math.ceil(total / 5);
        }
      };
      const queue = incidents.map((i) => ({ ...i, events: eventsOf(i, base) }));
      const started = performance.now();
      // `concurrency` incidents at a time; an incident's own events in order, duplicates at once or in a row.
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          for (let i = queue.shift(); i; i = queue.shift()) {
            for (const [k, s] of i.steps.entries()) {
              const event = i.events[k];
              if (!event) continue;
              const copies = Array.from({ length: s.deliveries }, () => event);
              if (s.together) await Promise.all(copies.map((e) => timed(i.fn, e)));
              else for (const e of copies) await timed(i.fn, e);
            }
          }
        }),
      );
      const wallMs = performance.now() - started;
      const sorted = [...latencies].sort((a, b) => a - b);
      const p99 = percentile(sorted, 99);
      const slowest = latencies.flatMap((ms, k) => (ms >= p99 ? [{ ms, wait: held[k] ?? 0 }] : []));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const sortedWaits = [...held].sort((a, b) => a - b);
      return {
        label,
        deliveries: total,
        wallMs,
        p50: percentile(sorted, 50),
        p99,
        waitP50: percentile(sortedWaits, 50),
        waitP99: percentile(sortedWaits, 99),
        slowestMs: mean(slowest.map((x) => x.ms)),
        slowestWaitMs: mean(slowest.map((x) => x.wait)),
        calls: counters.calls(),
        ...counters.tally,
        refusedInProgress,
        errors,
      };
    };

    options.progress(
      `storm: ${total} deliveries, ${incidents.length} incidents (${incidents.filter((i) => i.template === 'flap').length} flapping), ${options.concurrency} at a time`,
    );
    const normal = await replay('deduplication on', 0);
    setDeduplicationForBench(false);
    let off: RunFigures;
    try {
      off = await replay('deduplication off', 500_000);
    } finally {
      setDeduplicationForBench(true);
    }
    return {
      distinct: incidents.length,
      expected,
      runs: [normal, off],
      excluded,
      stateQueue: options.stateQueue,
    };
  } finally {
    await moto.stop();
  }
}

/** Prints the two runs side by side; true when the normal run gave exactly what the stream should. */
export function printStorm(result: StormResult): boolean {
  const { expected, runs } = result;
  const rows: [string, (r: RunFigures) => string, string][] = [
    ['deliveries', (r) => String(r.deliveries), ''],
    ['events/s', (r) => (r.deliveries / (r.wallMs / 1000)).toFixed(0), ''],
    ['p50 ms per delivery', (r) => r.p50.toFixed(1), ''],
    ['p99 ms per delivery', (r) => r.p99.toFixed(1), ''],
    ['AWS calls per delivery', (r) => (r.calls / r.deliveries).toFixed(2), ''],
    ['p50 / p99 ms held in the bench queue', (r) => `${r.waitP50.toFixed(1)} / ${r.waitP99.toFixed(1)}`, ''],
    ['pages', (r) => String(r.pages), String(expected.pages)],
    ['resolve notices', (r) => String(r.resolves), String(expected.resolves)],
    ['actions', (r) => String(r.actions), String(expected.actions)],
    ['refused while in progress (retried by Lambda)', (r) => String(r.refusedInProgress), ''],
    ['errors', (r) => String(r.errors.length), '0'],
  ];
  const head = ['', ...runs.map((r) => r.label), 'expected'];
  const table = [head, ...rows.map(([name, value, exp]) => [name, ...runs.map(value), exp])];
  const widths = head.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  for (const r of runs) {
    const share = r.slowestMs > 0 ? (100 * r.slowestWaitMs) / r.slowestMs : 0;
    console.log(
      `${r.label}: the slowest 1 % (>= p99 ${r.p99.toFixed(0)} ms) took ${r.slowestMs.toFixed(0)} ms on average, ` +
        `${r.slowestWaitMs.toFixed(0)} ms (${share.toFixed(0)} %) of it held in the bench's ${result.stateQueue} ` +
        `state-table queue, ${(r.slowestMs - r.slowestWaitMs).toFixed(0)} ms in the handler (its code and moto)`,
    );
  }
  console.log(
    `\n${result.distinct} incidents; expected = each incident's events delivered once, one at a time (calibration).`,
  );
  if (result.excluded.length > 0) {
    console.log(`left out (refused by their function on a single delivery): ${result.excluded.join(', ')}`);
  }
  const [normal] = runs;
  for (const r of runs)
    for (const e of [...new Set(r.errors)].slice(0, 3)) console.log(`${r.label} error: ${e}`);
  return (
    normal !== undefined &&
    normal.pages === expected.pages &&
    normal.resolves === expected.resolves &&
    normal.actions === expected.actions &&
    normal.errors.length === 0
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const result = await benchStorm({
    events: Number(process.env.STORM_EVENTS ?? 1000),
    concurrency: Number(process.env.STORM_CONCURRENCY ?? 8),
    seed: 12,
    stateQueue: process.env.STORM_STATE_QUEUE === 'global' ? 'global' : 'item',
    progress: (line) => console.log(`[storm ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`),
  });
  console.log('');
  const ok = printStorm(result);
  console.log(`\nstorm took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (!ok) {
    console.error('storm: the run with deduplication differs from the expected pages, notices or actions');
    process.exitCode = 1;
  }
}
