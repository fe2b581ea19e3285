/**
 * The chat copy of a page whose action waits for approval carries the approval id where the chat custom
 * action's variables read it (`metadata.additionalContext.approvalId`, docs/APPROVALS.md), and a keyword
 * its criteria can match; a page with no pending action carries neither.
 */
import { describe, expect, it } from 'vitest';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmSignal } from '#functions/onAlarm/signal.ts';
import { APPROVAL_ID_PATTERN } from '#shared/approval/approvalId.ts';
import { renderChat } from '#shared/domain/channels.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import { type PageContext, pageIntent } from '#shared/domain/page.ts';
import { loadFixture } from '../../tools/local/events.ts';

const signal = alarmSignal(AlarmEvent.parse(loadFixture('onAlarm/metric-alarm.json')));
const incident = pageIntent(signal, { notice: 'incident', severity: 'high', reason: 'a rule matched' });
const APPROVAL_ID = `ap-${'3f'.repeat(16)}`;
const pending: Outcome = {
  kind: 'ssm.start-automation',
  status: 'skipped',
  reason: 'approval-pending',
  detail: `waits for approval ${APPROVAL_ID}: would start AWS-RestartEC2Instance`,
  refs: { approvalId: APPROVAL_ID, expiresAt: '2026-12-06T19:00:00.000Z' },
};
const ctxWith = (outcomes: Outcome[]): PageContext => ({
  outcomes,
  repeats: 0,
  stage: 'prod',
  dryRun: false,
  pageId: 'page-1',
});

describe('the chat page of an action that waits for approval', () => {
  it("carries the approval id in metadata.additionalContext.approvalId, where the custom action's variable reads it", () => {
    // Act
    const chat = renderChat(incident, ctxWith([pending]));
    // Assert
    expect(chat.metadata.additionalContext.approvalId).toBe(APPROVAL_ID);
    expect(chat.metadata.additionalContext.approvalExpiresAt).toBe('2026-12-06T19:00:00.000Z');
    expect(chat.content.keywords).toContain('approval-pending');
  });

  it('carries no approval id when nothing waits for approval', () => {
    // Act
    const chat = renderChat(incident, ctxWith([{ ...pending, reason: 'dry-run', refs: undefined }]));
    // Assert
    expect(chat.metadata.additionalContext).not.toHaveProperty('approvalId');
    expect(chat.content.keywords).not.toContain('approval-pending');
  });

  it('carries only an id in the approval id format: a malformed ref is not passed to the button', () => {
    // Arrange
    const forged = { ...pending, refs: { approvalId: 'ap-1" --function-name other', expiresAt: 'x' } };
    // Act
    const chat = renderChat(incident, ctxWith([forged]));
    // Assert
    expect(chat.metadata.additionalContext).not.toHaveProperty('approvalId');
    expect(APPROVAL_ID_PATTERN.test(APPROVAL_ID)).toBe(true);
  });
});
