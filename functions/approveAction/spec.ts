import { isRemediationKind } from '#shared/approval/remediationScope.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FunctionSpec, PipelineResult } from '#shared/runtime/functionSpec.ts';
import { type DecisionGathered, gatherDecision, gatherPermissions } from './gather.ts';
import { decisionInRecordedAccount } from './inRecordedAccount.ts';
import { type DecisionIntent, planDecision } from './plan.ts';
import { ApproveActionInput } from './schema.ts';
import { type ApproveActionConfig, specSettings } from './settings.ts';
import { observeDecision } from './signal.ts';

export const executors: ExecutorMap<DecisionIntent, ApproveActionConfig> = {
  // The decision, and the approved action in the account its record names (a member's, or this one).
  'approval.decide': decisionInRecordedAccount,
  'sns.page': pageExecutor,
};

/** Refusals a person reads: why nothing was done. */
const REFUSALS = new Set([
  'expired',
  'decided',
  'unknown',
  'foreign-stage',
  'kill-switch',
  'change-freeze',
  'resolved',
  'out-of-scope',
  'rate-limited',
]);

/** A remediation executor's own "nothing left to undo": the opening is gone, or its resource is. */
const ALREADY_DONE = new Set(['already-remediated', 'nothing-to-do']);

/** A refusal's answer, `{ refused, message }`, else the decision and what it did. */
export function respondDecision(result: PipelineResult): unknown {
  const note = result.notes.find((n) => REFUSALS.has(n.reason));
  if (note) return { refused: note.reason, message: note.detail };
  const [outcome] = result.outcomes;
  // What the action's executor said: the runbook claim's `already-recovered` is the incident's end.
  if (outcome?.status === 'skipped' && outcome.reason === 'already-recovered') {
    return { refused: 'resolved', message: outcome.detail };
  }
  // A remediation whose opening is gone (closed by hand meanwhile): nothing left to undo.
  if (
    outcome?.status === 'skipped' &&
    isRemediationKind(outcome.kind) &&
    ALREADY_DONE.has(outcome.reason ?? '')
  ) {
    return { refused: 'resolved', message: `already remediated, nothing left to undo (${outcome.detail})` };
  }
  if (outcome?.status === 'skipped' && outcome.reason && REFUSALS.has(outcome.reason)) {
    return { refused: outcome.reason, message: outcome.detail };
  }
  return {
    decided: outcome?.detail,
    dryRun: result.dryRun,
    outcomes: result.outcomes,
    // What the decision left out (an idle stop list's instances that no longer qualify), and why.
    ...(result.notes.length > 0 ? { notes: result.notes } : {}),
  };
}

/**
 * A person's decision on a pending action (`sls invoke -f approveAction`, or chat): no event rule.
 * A hand invocation has no event id, so nothing deduplicates it: the decision's conditional write does.
 */
export const approveAction: FunctionSpec<
  typeof ApproveActionInput,
  ApproveActionInput,
  DecisionGathered,
  DecisionIntent,
  undefined,
  typeof specSettings
> = {
  name: 'approveAction',
  settings: specSettings,
  schema: ApproveActionInput,
  // Only someone allowed to invoke the function here sends one; the record says which stage it is.
  scope: () => [],
  observe: observeDecision,
  gather: { permissions: gatherPermissions, read: gatherDecision },
  plan: planDecision,
  executors,
  respond: respondDecision,
};
