import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asDeliveredEvent,
  type HeldoutRecord,
  heldoutFigures,
  loadHeldoutCorpus,
  type ReplayOutcome,
} from '../../tools/local/heldout.ts';
import { type HeldoutReplay, startHeldoutReplay } from '../../tools/local/heldoutReplay.ts';
import { packagedOnce } from '../support/packagedOnce.ts';

/**
 * Issue 18's held-out evaluation (events/heldout/cloudtrail/): every record, as EventBridge delivers
 * it, through the packaged onCloudTrail rules and the handler (dry-run). What must hold is asserted; the
 * recall figures are measured by `npm run heldout` and reported (docs/heldout.md), not
 * asserted, since they do not hold yet.
 */

let records: HeldoutRecord[];
let replay: HeldoutReplay;
const outcomes = new Map<string, ReplayOutcome>();

beforeAll(async () => {
  records = loadHeldoutCorpus();
  const { template } = await packagedOnce('dev');
  replay = await startHeldoutReplay(template);
  for (const r of records) outcomes.set(r.id, await replay.replay(asDeliveredEvent(r.id, r.record)));
}, 600_000);

afterAll(async () => {
  await replay?.stop();
});

describe('the held-out CloudTrail records through the packaged rules and the handler', () => {
  it('replays at least 100 labelled records, some of which the rules route', () => {
    // Assert
    expect(records.length).toBeGreaterThanOrEqual(100);
    expect([...outcomes.values()].filter((o) => o.routed).length).toBeGreaterThan(0);
  });

  it('fails on no routed record: each is paged, recorded or ignored', () => {
    // Act
    const failed = [...outcomes].filter(([, o]) => o.routed && o.action === 'failed');
    // Assert
    expect(failed).toEqual([]);
  });

  it('pages at most 1 % of the deliverable records an on-call engineer wants neither paged nor recorded', () => {
    // Act
    const rest = heldoutFigures(records, outcomes).find((f) => f.name === 'the rest paged');
    // Assert
    expect(rest?.of).toBeGreaterThan(0);
    expect((rest?.hits ?? 1) / (rest?.of ?? 1)).toBeLessThanOrEqual(0.01);
  });

  it('changes nothing in the account while replaying dry-run (pages and its own state table only)', () => {
    // Assert
    expect(replay.mutatingCalls()).toEqual([]);
  });
});
