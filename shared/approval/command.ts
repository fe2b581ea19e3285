/**
 * What a page tells a person to run: the one-line `sls invoke` of approveAction whose `--data` is exactly
 * its input, `{ "approvalId", "decision", "approvedBy", "reason"? }`. `approvedBy` is a placeholder the
 * person replaces with their name.
 */
export const APPROVED_BY_PLACEHOLDER = '<your-name>';

export type ApprovalDecision = 'approve' | 'reject';

/** Where the stack runs: the command names its region, so it reaches the stack that paged. */
export interface StackAt {
  stage: string;
  region: string;
}

export function approvalCommand(at: StackAt, approvalId: string, decision: ApprovalDecision): string {
  const data = JSON.stringify({ approvalId, decision, approvedBy: APPROVED_BY_PLACEHOLDER });
  return `npx sls invoke --stage ${at.stage} --region ${at.region} -f approveAction --data '${data}'`;
}

/** The page's lines: how to approve, how to reject, until when. */
export function approvalInstructions(at: StackAt, approvalId: string, expiresAt: string): string {
  return (
    `Approve (until ${expiresAt}): ${approvalCommand(at, approvalId, 'approve')} ; ` +
    `reject: ${approvalCommand(at, approvalId, 'reject')}`
  );
}
