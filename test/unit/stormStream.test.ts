import { describe, expect, it } from 'vitest';
import { onAlarm } from '#functions/onAlarm/spec.ts';
import { onBackupFailure } from '#functions/onBackupFailure/spec.ts';
import { onCloudTrail } from '#functions/onCloudTrail/spec.ts';
import { onCostAnomaly } from '#functions/onCostAnomaly/spec.ts';
import { onRunbookResult } from '#functions/onRunbookResult/spec.ts';
import { stopIdleInstances } from '#functions/stopIdleInstances/spec.ts';
import { asIncident, type Event } from '../../scripts/bench/stormStream.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { isEventBridgeEvent } from '../../tools/local/routing.ts';

// The path each function's idempotency layer keys a delivery by: two deliveries with one value are one.
const keyPaths = Object.fromEntries(
  [onAlarm, onBackupFailure, onCloudTrail, onCostAnomaly, onRunbookResult, stopIdleInstances].map((spec) => [
    spec.name,
    spec.idempotency?.key,
  ]),
);
const valueAt = (event: Event, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], event);

const stormFixtures = listFixtures()
  .filter((f) => !f.includes('/invalid/'))
  .map((path) => ({ path, fn: path.split('/')[0] ?? '', event: loadFixture(path) as unknown }))
  .filter((f): f is { path: string; fn: string; event: Event } => isEventBridgeEvent(f.event));

describe('the storm bench stream', () => {
  it('gives every incident its own idempotency key, so a page the code sends once per incident is expected once per incident', () => {
    // Arrange: the storm replays each fixture as several incidents (n, n + fixtures, ...), and fixtures
    // whose ids are not UUIDs ('test-03', 'xxxxxxxx-...', AWS's sample 'ab32977c-...-fgh4596f0709').
    const seen = new Map<string, string>();
    const shared: string[] = [];
    // Act
    for (const n of [1, 2, 3]) {
      for (const f of stormFixtures) {
        const path = keyPaths[f.fn];
        if (!path) continue;
        const value = valueAt(asIncident(f.event, n, f.path), path);
        // No key: its function refuses the delivery, and the calibration leaves the fixture out.
        if (value === undefined) continue;
        const key = `${f.fn}:${String(value)}`;
        const first = seen.get(key);
        if (first) shared.push(`${f.path} #${n} shares ${key} with ${first}`);
        else seen.set(key, `${f.path} #${n}`);
      }
    }
    // Assert
    expect(stormFixtures.length).toBeGreaterThan(100);
    expect(shared).toEqual([]);
  });
});
