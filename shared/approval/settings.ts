import { z } from 'zod';

/**
 * `approval: 'required'` on what may act (an alarm rule, a detection, the idle stop, the backup retry):
 * the plan's mutation waits for a person (approveAction) instead of running. Off by default.
 * Only zod here: the stage configuration imports it while it loads.
 */
export const ApprovalRequirement = z.literal('required').optional();
export type ApprovalRequirement = z.infer<typeof ApprovalRequirement>;

/** How long a pending approval may be approved: default 1 hour, at most 24. */
export const ApprovalSettings = z.strictObject({
  expiryMinutes: z.number().int().min(1).max(1440).default(60),
});
export type ApprovalSettings = z.infer<typeof ApprovalSettings>;
