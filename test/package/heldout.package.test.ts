import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_DIR } from '../../tools/local/events.ts';
import {
  asDeliveredEvent,
  type HeldoutRecord,
  heldoutCorpora,
  heldoutFigures,
  loadHeldoutCorpus,
  type ReplayOutcome,
} from '../../tools/local/heldout.ts';
import { type HeldoutReplay, startHeldoutReplay } from '../../tools/local/heldoutReplay.ts';
import { packagedOnce } from '../support/packagedOnce.ts';

/**
 * The held-out evaluation of the detection-breadth work (events/heldout/<corpus>/, docs/heldout.md): every
 * record of every corpus, as EventBridge delivers it, through the packaged onCloudTrail rules and the
 * handler (dry-run). What must hold is asserted per corpus; the recall figures are measured by
 * `npm run heldout -- --corpus <dir>` and reported (docs/heldout.md), not asserted, since they do not
 * hold yet.
 */

interface CorpusRun {
  records: HeldoutRecord[];
  outcomes: Map<string, ReplayOutcome>;
  /** The mutating AWS calls the handler made while this corpus was replayed. */
  changes: string[];
}

const corpora = heldoutCorpora().map((dir) => ({ name: relative(EVENTS_DIR, dir), dir }));
const runs = new Map<string, CorpusRun>();
let replay: HeldoutReplay | undefined;

// One package and one replay (one moto) for all corpora, one corpus after the other.
beforeAll(async () => {
  const { template } = await packagedOnce('dev');
  replay = await startHeldoutReplay(template);
  for (const { name, dir } of corpora) {
    const before = replay.mutatingCalls().length;
    const records = loadHeldoutCorpus(dir);
    const outcomes = new Map<string, ReplayOutcome>();
    for (const r of records) outcomes.set(r.id, await replay.replay(asDeliveredEvent(r.id, r.record)));
    runs.set(name, { records, outcomes, changes: replay.mutatingCalls().slice(before) });
  }
}, 900_000);

afterAll(async () => {
  await replay?.stop();
});

const runOf = (name: string): CorpusRun => {
  const run = runs.get(name);
  if (!run) throw new Error(`${name} was not replayed`);
  return run;
};

describe('the held-out corpora', () => {
  it('are at least two: the first and one frozen before anyone replayed it', () => {
    // Assert
    expect(corpora.map((c) => c.name)).toEqual(
      expect.arrayContaining(['heldout/cloudtrail', 'heldout/invictus']),
    );
  });
});

describe.each(corpora.map((c) => c.name))(
  'the held-out records of %s through the packaged rules and the handler',
  (name) => {
    it('replays at least 100 labelled records, some of which the rules route', () => {
      // Arrange
      const { records, outcomes } = runOf(name);
      // Assert
      expect(records.length).toBeGreaterThanOrEqual(100);
      expect([...outcomes.values()].filter((o) => o.routed).length).toBeGreaterThan(0);
    });

    it('fails on no routed record: each is paged, recorded or ignored', () => {
      // Act
      const failed = [...runOf(name).outcomes].filter(([, o]) => o.routed && o.action === 'failed');
      // Assert
      expect(failed).toEqual([]);
    });

    it('pages at most 1 % of the deliverable records an on-call engineer wants neither paged nor recorded', () => {
      // Arrange
      const { records, outcomes } = runOf(name);
      // Act
      const rest = heldoutFigures(records, outcomes).find((f) => f.name === 'the rest paged');
      // Assert
      expect(rest?.of).toBeGreaterThan(0);
      expect((rest?.hits ?? 1) / (rest?.of ?? 1)).toBeLessThanOrEqual(0.01);
    });

    it('changes nothing in the account while replaying dry-run (pages and its own state table only)', () => {
      // Assert
      expect(runOf(name).changes).toEqual([]);
    });
  },
);
