import { z } from 'zod';
import { notInFuture, RecordId } from '#shared/domain/eventBridge.ts';
import { wellFormedUnicode } from '#shared/domain/text.ts';
import { ScanTarget } from './scanTargets.ts';

/**
 * The body of one idle-scan queue message: the scheduled run it belongs to and the one (account,
 * region) its worker scans. Only the scheduled run sends these (its role alone may), but every field is
 * still bounded: it keys the worker's run, its stop list and its page.
 */
export const ScanTargetMessage = z.strictObject({
  kind: z.literal('idle-scan-target'),
  /** The scheduled event's id. */
  run: RecordId,
  /** When the scheduled run fanned out: the worker's signal time. */
  scheduledAt: z.iso.datetime().check(wellFormedUnicode).superRefine(notInFuture),
  ...ScanTarget.shape,
});
export type ScanTargetMessage = z.infer<typeof ScanTargetMessage>;
