/**
 * npm run heldout: the held-out evaluation of onCloudTrail (docs/heldout.md). Packages the stack (dev stage),
 * replays every record of a held-out corpus as EventBridge delivers it through the packaged onCloudTrail
 * rules (in moto) and the handler (dry-run, AWS mocked), and prints the four figures with every record
 * that counts against one. The labels were written before the first replay; nothing here reads them to
 * decide anything, only to score.
 *
 * `--corpus <dir>` replays that corpus (e.g. events/heldout/invictus); without it, events/heldout/cloudtrail/.
 * `--json` prints the outcomes as JSON instead (one object per record).
 */
import { relative } from 'node:path';
import {
  asDeliveredEvent,
  corpusDirFrom,
  heldoutFigures,
  holds,
  loadHeldoutCorpus,
  type ReplayOutcome,
} from '../tools/local/heldout.ts';
import { packageStack } from '../tools/local/packaged.ts';

// The handler's logs and metrics would bury the figures (its decisions are in the outcomes); Powertools
// reads these when the handler's modules load, so they are set before the replay is imported.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { startHeldoutReplay } = await import('../tools/local/heldoutReplay.ts');

const args = process.argv.slice(2);
let corpus: string;
try {
  corpus = corpusDirFrom(args);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const records = loadHeldoutCorpus(corpus);
console.error(
  `Packaging the dev stage and replaying ${records.length} held-out records of ${relative(process.cwd(), corpus) || '.'}...`,
);
const { template } = await packageStack('dev');
const replay = await startHeldoutReplay(template);
const outcomes = new Map<string, ReplayOutcome>();
let changes: string[] = [];
try {
  for (const r of records) outcomes.set(r.id, await replay.replay(asDeliveredEvent(r.id, r.record)));
  changes = replay.mutatingCalls();
} finally {
  await replay.stop();
}

const shown = (o: ReplayOutcome | undefined) =>
  !o
    ? '?'
    : !o.routed
      ? 'not routed'
      : o.action === 'failed'
        ? `failed: ${o.error}`
        : `${o.action}${o.detection ? ` (${o.detection})` : ''}`;

if (args.includes('--json')) {
  console.log(
    JSON.stringify(
      records.map((r) => ({
        record: r.id,
        label: r.label,
        deliverable: r.deliverable,
        origin: r.origin,
        outcome: outcomes.get(r.id),
      })),
      null,
      2,
    ),
  );
} else {
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const f of heldoutFigures(records, outcomes)) {
    const pct = f.of === 0 ? '-' : `${((100 * f.hits) / f.of).toFixed(1)} %`;
    const bound = `${f.atLeast ? '>=' : '<='} ${(100 * f.bound).toFixed(0)} %`;
    console.log(
      `${holds(f) ? 'holds ' : 'FAILS '} ${f.name}: ${f.hits}/${f.of} = ${pct} (done-when ${bound})`,
    );
    for (const id of f.misses) {
      const r = byId.get(id);
      console.log(
        `         ${id} [${r?.label}] ${String(r?.record.eventName)}: ${shown(outcomes.get(id))} -- ${r?.reason}`,
      );
    }
  }
  // The same figures over each origin (the corpus README says what each is, e.g. recorded or written).
  for (const origin of [...new Set(records.map((r) => r.origin))].sort()) {
    const figures = heldoutFigures(
      records.filter((r) => r.origin === origin),
      outcomes,
    );
    console.log(`${origin} only: ${figures.map((f) => `${f.name} ${f.hits}/${f.of}`).join(', ')}`);
  }
  const undeliverable = records.filter((r) => !r.deliverable);
  const routedAnyway = undeliverable.filter((r) => outcomes.get(r.id)?.routed);
  console.log(
    `not deliverable: ${undeliverable.length} records (read-only, data events, incomplete); routed anyway in this replay: ${routedAnyway.length}`,
  );
  for (const r of routedAnyway) console.log(`         ${r.id} [${r.label}]: ${shown(outcomes.get(r.id))}`);
  console.log(
    `mutating AWS calls in the dry-run replay: ${changes.length === 0 ? 'none' : changes.join(', ')}`,
  );
}
