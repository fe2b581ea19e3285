/**
 * What a page tells a person to run: the one-line `sls invoke` of approveAction whose `--data` is exactly
 * its input, `{ "approvalId", "decision", "approvedBy", "reason"? }`. `approvedBy` is a placeholder the
 * person replaces with their name.
 */
export const APPROVED_BY_PLACEHOLDER = '<your-name>';

export type ApprovalDecision = 'approve' | 'reject';

export function approvalCommand(stage: string, approvalId: string, decision: ApprovalDecision): string {
  const data = JSON.stringify({ approvalId, decision, approvedBy: APPROVED_BY_PLACEHOLDER });
  return `npx sls invoke --stage ${stage} -f approveAction --data '${data}'`;
}

/** The page's lines: how to approve, how to reject, until when. */
export function approvalInstructions(stage: string, approvalId: string, expiresAt: string): string {
  return (
    `Approve (until ${expiresAt}): ${approvalCommand(stage, approvalId, 'approve')} ; ` +
    `reject: ${approvalCommand(stage, approvalId, 'reject')}`
  );
}
