/**
 * The Amazon Q Developer in chat applications custom action that approves (or rejects) from a chat page:
 * a CLI command template whose `$approvalId` is bound from the notification
 * (`metadata.additionalContext.approvalId`, shared/domain/channels.ts) and `$approvedBy` left for the
 * person pressing the button. The stack does not create it (docs/APPROVALS.md says why and how):
 * these are the values the operator's `aws chatbot create-custom-action` takes.
 * CreateCustomAction: https://docs.aws.amazon.com/chatbot/latest/APIReference/API_CreateCustomAction.html
 */
import type { ApprovalDecision, StackAt } from './command.ts';

/** The notification value the button's `$approvalId` is bound to. */
export const APPROVAL_ID_VARIABLE_PATH = 'event.metadata.additionalContext.approvalId';

/** The command the button runs: approveAction's input, exactly as the page's sls invoke carries it. */
export function approvalCustomActionCommand(at: StackAt, decision: ApprovalDecision): string {
  const payload = `{"approvalId":"$approvalId","decision":"${decision}","approvedBy":"$approvedBy"}`;
  return `lambda invoke --function-name ops-autopilot-${at.stage}-approveAction --region ${at.region} --payload ${payload}`;
}

/** CreateCustomAction's input for one decision's button, shown on chat pages that carry an approval id. */
export function approvalCustomAction(at: StackAt, decision: ApprovalDecision) {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  return {
    ActionName: `ops-autopilot-${at.stage}-${decision}`,
    Definition: { CommandText: approvalCustomActionCommand(at, decision) },
    Attachments: [
      {
        ButtonText: `${verb} (ops-autopilot ${at.stage})`,
        NotificationType: 'Custom',
        Criteria: [{ Operator: 'HAS_VALUE', VariableName: 'approvalId' }],
        Variables: { approvalId: APPROVAL_ID_VARIABLE_PATH },
      },
    ],
  };
}
