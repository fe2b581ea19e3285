import type { Signal } from '#shared/domain/signal.ts';
import type { InvocationSite } from '#shared/runtime/functionSpec.ts';
import type { ApproveActionInput } from './schema.ts';

/** The decision as a signal: its own correlation id (the invocation), the approval as its incident. */
export function observeDecision(
  input: ApproveActionInput,
  env: { site: InvocationSite },
): { signal: Signal; facts: ApproveActionInput } {
  const { site } = env;
  const signal: Signal = {
    kind: 'approval.decision',
    severity: 'info',
    title: `${input.decision} ${input.approvalId} by ${input.approvedBy}`,
    summary: `${input.approvedBy} asks to ${input.decision} the pending action ${input.approvalId}.`,
    account: site.account,
    region: site.region,
    resources: [],
    correlationId: site.requestId,
    incidentKey: `approval:${input.approvalId}`,
    occurredAt: new Date().toISOString(),
    evidence: { approvalId: input.approvalId, decision: input.decision, approvedBy: input.approvedBy },
    links: [],
  };
  return { signal, facts: input };
}
