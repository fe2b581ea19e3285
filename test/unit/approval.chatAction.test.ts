/**
 * The chat custom action an operator creates (docs/APPROVALS.md): its command invokes the deployed
 * approveAction with exactly the page's input once its variables are bound, and it stays within what
 * CreateCustomAction accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApproveActionInput } from '#functions/approveAction/schema.ts';
import { registry } from '#functions/index.ts';
import {
  APPROVAL_ID_VARIABLE_PATH,
  approvalCustomAction,
  approvalCustomActionCommand,
} from '#shared/approval/chatAction.ts';

const at = { stage: 'prod', region: 'eu-west-1' };
const APPROVAL_ID = `ap-${'0a'.repeat(16)}`;

describe("the chat custom action's command", () => {
  it('invokes the deployed approveAction of the stage, in its region', () => {
    // Act
    const command = approvalCustomActionCommand(at, 'approve');
    // Assert
    expect(command).toBe(
      'lambda invoke --function-name ops-autopilot-prod-approveAction --region eu-west-1 --payload {"approvalId":"$approvalId","decision":"approve","approvedBy":"$approvedBy"}',
    );
    expect(registry.map((e) => e.name)).toContain('approveAction');
  });

  it.each(['approve', 'reject'] as const)(
    'once bound, carries exactly the input approveAction accepts (%s)',
    (decision) => {
      // Arrange
      const payload = /--payload (\{.*\})$/.exec(approvalCustomActionCommand(at, decision))?.[1] ?? '';
      // Act
      const bound = payload.replace('$approvalId', APPROVAL_ID).replace('$approvedBy', 'Ana Lima');
      // Assert
      expect(ApproveActionInput.parse(JSON.parse(bound))).toEqual({
        approvalId: APPROVAL_ID,
        decision,
        approvedBy: 'Ana Lima',
      });
    },
  );

  it("fits CreateCustomAction's limits and binds approvalId from the chat page's additionalContext", () => {
    // Act
    const action = approvalCustomAction(at, 'reject');
    const [attachment] = action.Attachments;
    // Assert
    expect(action.ActionName).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(action.Definition.CommandText.length).toBeLessThanOrEqual(5000);
    expect(attachment?.ButtonText.length).toBeLessThanOrEqual(50);
    expect(attachment?.Variables).toEqual({ approvalId: APPROVAL_ID_VARIABLE_PATH });
    expect(APPROVAL_ID_VARIABLE_PATH).toMatch(/^[\x21-\x7F]+$/);
  });

  it('is documented in docs/APPROVALS.md exactly as built', () => {
    // Arrange
    const doc = readFileSync(join(import.meta.dirname, '../../docs/APPROVALS.md'), 'utf8');
    // Assert
    const action = approvalCustomAction({ stage: '<stage>', region: '<region>' }, 'approve');
    expect(doc).toContain(JSON.stringify(action, null, 2));
    expect(doc).toContain(APPROVAL_ID_VARIABLE_PATH);
  });
});
