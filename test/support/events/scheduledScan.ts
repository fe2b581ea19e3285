import type { z } from 'zod';
import type { ScheduledScanEvent } from '#functions/stopIdleInstances/schema.ts';
import { type EnvelopeOverrides, fromFixture, withEnvelope } from './fixture.ts';

/** The stage's idle-scan schedule firing, as EventBridge delivers it to stopIdleInstances. */
export type ScheduledScan = z.input<typeof ScheduledScanEvent>;

/**
 * A scheduled idle scan from `events/stopIdleInstances/<fixture>.json` (default: the scheduled event),
 * with the envelope fields given changed (a new `id` is another run).
 */
export function scheduledScan(fixture = 'scheduled-event', overrides: EnvelopeOverrides = {}): ScheduledScan {
  return withEnvelope(fromFixture<ScheduledScan>('stopIdleInstances', fixture), overrides);
}
