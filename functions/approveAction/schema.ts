import { z } from 'zod';
import { APPROVAL_ID_PATTERN } from '#shared/approval/approvalId.ts';
import { boundedText, eventString } from '#shared/domain/text.ts';

/**
 * What a person sends (`sls invoke -f approveAction --data '…'`, or a chat custom action): exactly the
 * page's JSON, `{ "approvalId", "decision", "approvedBy", "reason"? }`, and for a hand invocation the
 * house's `"dryRun": true`. Strict, so a mistyped key is named, not ignored.
 */
export const ApproveActionInput = z.strictObject({
  approvalId: eventString().regex(
    APPROVAL_ID_PATTERN,
    'must be an approval id from a page (ap- and 32 hex digits)',
  ),
  decision: z.enum(['approve', 'reject']),
  /** Who decides, as the action log will name them: a name or an e-mail address, nothing else. */
  approvedBy: boundedText({ min: 1, max: 64 }).regex(
    /^[\p{L}\p{N} ._@+'-]+$/u,
    "must be a name or e-mail address (letters, digits, space and . _ @ + ' -)",
  ),
  reason: boundedText({ min: 1, max: 500 }).optional(),
  /** The chat user the custom action passes, where it passes one. */
  chatUser: boundedText({ min: 1, max: 128 }).optional(),
  dryRun: z.boolean().optional(),
});
export type ApproveActionInput = z.infer<typeof ApproveActionInput>;
