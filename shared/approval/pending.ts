import { processRegion, type SharedConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { failed, type Outcome } from '#shared/domain/outcome.ts';
import type { ExecutionContext, MutatingExecutor } from '#shared/executors/types.ts';
import { approvalSlotFor, recordPendingApproval } from '#shared/state/approvals.ts';
import { nowSeconds } from '#shared/state/table.ts';
import { newApprovalId } from './approvalId.ts';
import { approvalInstructions } from './command.ts';
import type { ApprovalNeed } from './recheck.ts';

/**
 * Instead of executing a mutation that needs approval: records it as a pending action (the intent, its
 * signal and evidence, a random approval id, an expiry) and answers `approval-pending`, whose detail
 * (shown in the page) says what would happen and how to approve or reject it.
 */
export async function awaitApproval<I extends Intent, C extends SharedConfig>(
  owner: string,
  executor: MutatingExecutor<I, C>,
  intent: I,
  ctx: ExecutionContext<C>,
  need: ApprovalNeed,
): Promise<Outcome> {
  const preview = executor.preview(intent, ctx);
  const recorded = JSON.stringify(intent);
  const fresh = {
    approvalId: newApprovalId(),
    expiresAt: nowSeconds() + ctx.config.approvals.expiryMinutes * 60,
  };
  let approvalId = fresh.approvalId;
  let expiresAt = fresh.expiresAt;
  try {
    // A retried delivery (one that failed after recording it) finds its pending action and pages it again.
    ({ approvalId, expiresAt } = await approvalSlotFor(
      {
        ownerFunction: ctx.config.functionName,
        correlationId: ctx.signal.correlationId,
        incidentKey: ctx.signal.incidentKey,
        intent: recorded,
      },
      fresh,
    ));
    await recordPendingApproval(
      {
        approvalId,
        owner,
        ownerFunction: ctx.config.functionName,
        incidentKey: ctx.signal.incidentKey,
        rule: need.rule,
        correlationId: ctx.signal.correlationId,
        intent: recorded,
        signal: JSON.stringify(ctx.signal),
        preview,
        settings: JSON.stringify(need.settings ?? {}),
        recheck: JSON.stringify(need.recheck),
        expiresAt,
      },
      approvalId !== fresh.approvalId,
    );
  } catch (error) {
    // Not recorded, nothing can approve it: the delivery fails and is retried.
    return failed(intent.kind, error, `not done: would ${preview}; could not record its approval`);
  }
  const until = new Date(expiresAt * 1000).toISOString();
  return {
    kind: intent.kind,
    status: 'skipped',
    reason: 'approval-pending',
    detail:
      `waits for approval ${approvalId}: would ${preview}. ` +
      // approveAction runs where the stack does, which on an organization's stage need not be the region
      // the action is in (a worker run of a listed region).
      approvalInstructions(
        { stage: ctx.config.stage, region: processRegion() ?? ctx.signal.region },
        approvalId,
        until,
      ),
    refs: { approvalId, expiresAt: until },
  };
}
