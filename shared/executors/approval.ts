import type { SharedConfig } from '#shared/config.ts';
import type { ApprovalDecisionIntent, Intent } from '#shared/domain/intent.ts';
import { done, failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { DeadlineError } from '#shared/runtime/invocation.ts';
import { execute } from '#shared/runtime/pipeline.ts';
import { decideApproval, reopenApproval } from '#shared/state/approvals.ts';
import { actingFor } from '#shared/state/table.ts';
import { restorePublicAccessBlockExecutor } from './publicAccessBlock.ts';
import { retryBackupExecutor } from './retryBackup.ts';
import { revokeIngressExecutor } from './revokeIngress.ts';
import { revokeRdsSnapshotShareExecutor } from './revokeRdsSnapshotShare.ts';
import { revokeShareExecutor } from './revokeShare.ts';
import { runbookExecutor } from './runbook.ts';
import { startLoggingExecutor } from './startLogging.ts';
import { stopInstancesExecutor } from './stopInstances.ts';
import type { ExecutionContext, Executor, ExecutorMap, NotifyingExecutor } from './types.ts';

/**
 * The executors an approved action runs through, by intent kind: the very objects the owning functions'
 * executor maps hold (onAlarm's runbook start), so an approved action meets the same claims, limits and
 * records as one that needed no approval.
 */
export const approvableExecutors = {
  'ssm.start-automation': runbookExecutor,
  // onCloudTrail's remediations (a detection with `approval: 'required'`).
  'ec2.revoke-ingress': revokeIngressExecutor,
  's3.restore-public-access-block': restorePublicAccessBlockExecutor,
  'cloudtrail.start-logging': startLoggingExecutor,
  'ec2.revoke-share': revokeShareExecutor,
  'rds.revoke-snapshot-share': revokeRdsSnapshotShareExecutor,
  // onBackupFailure's retry (`backupFailure.approval: 'required'`).
  'backup.retry-job': retryBackupExecutor,
  // The idle stopper's (stopIdleInstances', onCostAnomaly's): an approved stop list, its budget and tags.
  'ec2.stop-instances': stopInstancesExecutor,
} as const;
export type ApprovableKind = keyof typeof approvableExecutors;

export const isApprovableKind = (kind: string): kind is ApprovableKind => kind in approvableExecutors;

/** The name of the runtime's refusal of an action too close to the invocation's deadline. */
const DEADLINE_EXCEEDED = new DeadlineError('').name;

const who = (i: ApprovalDecisionIntent) =>
  `${i.decidedBy}${i.chatUser ? ` (chat user ${i.chatUser})` : ''}${i.reason ? `: ${i.reason}` : ''}`;

/** The recorded intent, as its executor takes it: a runbook start records its own execution here. */
function recordedIntent(intent: ApprovalDecisionIntent): Intent {
  const recorded = JSON.parse(intent.action.intent) as Intent;
  // onAlarm's page wrote the execution record with its link; here no page of onAlarm follows the start.
  if (recorded.kind === 'ssm.start-automation') {
    const { recordedWithPage: _linkedByOnAlarmsPage, ...own } = recorded;
    return own;
  }
  return recorded;
}

/**
 * Runs the recorded intent through the runtime's own execute step, as its owner: dry-run, the deadline,
 * the rate guard and the executor, with the owner's records (stateKeyOwner) and its settings.
 */
async function runRecorded(
  intent: ApprovalDecisionIntent,
  ctx: ExecutionContext<SharedConfig>,
  dryRun: boolean,
): Promise<Outcome> {
  const recorded = recordedIntent(intent);
  if (!isApprovableKind(recorded.kind)) {
    return failed('approval.decide', new Error(`no executor for ${recorded.kind}`), 'nothing done');
  }
  const signal = JSON.parse(intent.action.signal) as Signal;
  const settings = JSON.parse(intent.action.settings) as Record<string, unknown>;
  const config = { ...ctx.config, ...settings, functionName: intent.action.ownerFunction, dryRun };
  const executors = approvableExecutors as unknown as ExecutorMap<Intent, SharedConfig>;
  const { outcomes } = await actingFor(intent.action.ownerFunction, () =>
    execute({ intents: [recorded] }, executors, signal, config, ctx.forcedDryRun),
  );
  // The action's own outcome; a rate guard trip page, when there was one, was sent by execute.
  const [outcome] = outcomes;
  return outcome ?? failed(recorded.kind, new Error('no outcome'), 'nothing done');
}

/**
 * Decides a pending approval, once: the conditional write from `pending` comes before anything is
 * executed, so two approvals of one id (twice, or at once) run the action once; the loser is refused as
 * `decided`. Not a MutatingExecutor: it changes only its own record, and the action it runs is a
 * mutating executor's, which the runtime's execute step gates (dry-run, deadline, rate guard). A dry
 * run writes no decision and shows the action's preview.
 */
export const approvalDecisionExecutor: NotifyingExecutor<ApprovalDecisionIntent, SharedConfig> = {
  kind: 'approval.decide',
  mutates: false,
  // The decision's conditional update; the action's own needs are its executor's.
  permissions: ['dynamodb:UpdateItem'],
  metrics: { done: 'ApprovalsDecided' },
  async execute(intent, ctx) {
    const requestId = ctx.signal.correlationId;
    if (ctx.config.dryRun) {
      if (intent.decision === 'reject') {
        return skipped(intent.kind, 'dry-run', `would reject ${intent.approvalId} for ${who(intent)}`);
      }
      const preview = await runRecorded(intent, ctx, true);
      return skipped(
        intent.kind,
        'dry-run',
        `would approve ${intent.approvalId} for ${who(intent)} and then: ${preview.detail}`,
      );
    }
    const decided = await decideApproval(intent.approvalId, {
      status: intent.decision === 'approve' ? 'approved' : 'rejected',
      decidedBy: intent.decidedBy,
      ...(intent.chatUser ? { chatUser: intent.chatUser } : {}),
      ...(intent.reason ? { reason: intent.reason } : {}),
      decidedIn: requestId,
    }).catch((error: unknown) => error as Error);
    if (decided instanceof Error) {
      return failed(
        intent.kind,
        decided,
        `could not record the decision on ${intent.approvalId}; nothing done`,
      );
    }
    if (!decided) {
      return skipped(
        intent.kind,
        'decided',
        `${intent.approvalId} was decided or expired meanwhile (another approval won): nothing done`,
      );
    }
    if (intent.decision === 'reject') {
      return done(intent.kind, `rejected ${intent.approvalId} by ${who(intent)}: nothing done`, {
        approvalId: intent.approvalId,
      });
    }
    const outcome = await runRecorded(intent, ctx, false);
    const notStarted =
      (outcome.status === 'skipped' && outcome.reason === 'rate-limited') ||
      // Too close to the invocation's deadline: the action was not started, nothing was done.
      (outcome.status === 'failed' && outcome.error?.name === DEADLINE_EXCEEDED);
    if (notStarted) {
      // A limit that passes: the approval may be given again while it lasts.
      await reopenApproval(intent.approvalId, requestId);
    }
    return {
      ...outcome,
      detail: `approved ${intent.approvalId} by ${who(intent)}: ${outcome.detail}`,
      refs: { ...outcome.refs, approvalId: intent.approvalId },
    };
  },
};

/** The executor of each intent kind approveAction plans (the recorded action runs inside the decision). */
export type ApprovalExecutorMap = { 'approval.decide': Executor<ApprovalDecisionIntent, SharedConfig> };
