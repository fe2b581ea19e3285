import { RECORDED_SETTINGS, type Recheck } from '#shared/approval/recheck.ts';
import { remediationScopeProblem } from '#shared/approval/remediationScope.ts';
import { retryRecheckRefusal } from '#shared/backup/retryRecheck.ts';
import { instanceScopeProblem } from '#shared/domain/instanceScope.ts';
import type {
  ApprovalDecisionIntent,
  Intent,
  PageIntent,
  Plan,
  PlanNote,
  RetryBackupIntent,
  SkipReason,
} from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { parseAwsTimestamp } from '#shared/domain/time.ts';
import { skippedSentence, stopListNow } from '#shared/idle/approval.ts';
import { foreignArnOf } from '#shared/organization/foreignArns.ts';
import { freezeReason } from '#shared/runtime/changeFreeze.ts';
import type { DecisionGathered } from './gather.ts';
import type { ApproveActionInput } from './schema.ts';
import type { ApproveActionConfig } from './settings.ts';

export type DecisionIntent = ApprovalDecisionIntent | PageIntent;

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Why the approval cannot act now, checked in this order, or undefined when it may. */
function refusalOf(
  input: ApproveActionInput,
  gathered: DecisionGathered,
  cfg: ApproveActionConfig,
  here: Signal,
): { reason: SkipReason; message: string } | undefined {
  const { approval, now } = gathered;
  const id = input.approvalId;
  if (!approval) {
    return {
      reason: 'unknown',
      message: `no approval ${id} on stage ${cfg.stage} (or it expired over a week ago)`,
    };
  }
  if (approval.stage !== cfg.stage) {
    return { reason: 'foreign-stage', message: `${id} belongs to stage ${approval.stage}, not ${cfg.stage}` };
  }
  if (approval.status !== 'pending') {
    const by = approval.decidedBy ? ` by ${approval.decidedBy}` : '';
    const at = approval.decidedAt ? ` at ${iso(approval.decidedAt)}` : '';
    return { reason: 'decided', message: `${id} was already ${approval.status}${by}${at}: nothing done` };
  }
  if (approval.expiresAt <= now) {
    return { reason: 'expired', message: `${id} expired at ${iso(approval.expiresAt)}: nothing done` };
  }
  if (input.decision === 'reject') return undefined;
  if (gathered.killSwitch?.forced) {
    return {
      reason: 'kill-switch',
      message: `the kill switch ${gathered.killSwitch.parameter} is set (${gathered.killSwitch.why}): nothing done; ${id} stays pending until ${iso(approval.expiresAt)}`,
    };
  }
  // The record's account and region: served, listed and not off now, or nothing is assumed or done.
  if (gathered.accountRefusal) {
    return {
      reason: 'out-of-scope',
      message: `${gathered.accountRefusal}; ${id} stays pending until ${iso(approval.expiresAt)}`,
    };
  }
  // The owner's settings the executor reads, and nothing else: no record loosens a limit or names a role.
  const settingsKeys = Object.keys(JSON.parse(approval.settings) as Record<string, unknown>);
  const foreignKey = settingsKeys.find((k) => !(RECORDED_SETTINGS as readonly string[]).includes(k));
  if (foreignKey !== undefined) {
    return {
      reason: 'out-of-scope',
      message: `the record's settings carry ${JSON.stringify(foreignKey.slice(0, 64))}, which no owner records (only ${RECORDED_SETTINGS.join(', ')}): nothing done`,
    };
  }
  // The runtime's cross-account ARN guard, against the account the record names, before anything is
  // decided (the execute step asks again): a record naming another account's resource never acts.
  const recordedSignal = JSON.parse(approval.signal) as Signal;
  const foreign = foreignArnOf(JSON.parse(approval.intent) as Intent, recordedSignal);
  if (foreign) {
    return {
      reason: 'out-of-scope',
      message: `the recorded action names ${foreign.arn}, of account ${foreign.account}, and its record is account ${recordedSignal.account}'s: an action touches only its own event's account; nothing done`,
    };
  }
  // The change freeze, read now: a closed (or unreadable) calendar refuses, and the approval stays
  // pending until it expires, so it can be approved once the calendar opens.
  if (gathered.freeze?.closed) {
    return {
      reason: 'change-freeze',
      message: `${freezeReason(gathered.freeze)}: nothing done; ${id} stays pending until ${iso(approval.expiresAt)}`,
    };
  }
  const recheck = JSON.parse(approval.recheck) as Recheck;
  if (recheck.alarmOpen && gathered.recoveredAt !== undefined) {
    const signal = JSON.parse(approval.signal) as Signal;
    const alarmAt = parseAwsTimestamp(signal.occurredAt);
    if (alarmAt === undefined || gathered.recoveredAt >= alarmAt) {
      return {
        reason: 'resolved',
        message: `the alarm returned to OK at ${new Date(gathered.recoveredAt).toISOString()}, after the ALARM this action answered: nothing done`,
      };
    }
  }
  if (recheck.instance) {
    const problem = instanceScopeProblem(recheck.instance, gathered.target);
    if (problem) return { reason: 'out-of-scope', message: `${problem}: nothing done` };
  }
  if (recheck.remediation) {
    const recorded = {
      intent: JSON.parse(approval.intent) as Intent,
      signal: JSON.parse(approval.signal) as Signal,
    };
    // In a member account the remediation acts there, so its ids and owner are judged against it.
    const problem = remediationScopeProblem(recorded, gathered.member ?? here);
    if (problem) return { reason: 'out-of-scope', message: `${problem}: nothing done` };
  }
  if (recheck.backupRetry) {
    const recorded = {
      signal: JSON.parse(approval.signal) as Signal,
      settings: JSON.parse(approval.settings) as Parameters<typeof retryRecheckRefusal>[1]['settings'],
    };
    const intent = JSON.parse(approval.intent) as RetryBackupIntent;
    const refusal = retryRecheckRefusal(intent, recorded, gathered.backupRetry);
    if (refusal) return refusal;
  }
  if (recheck.idleStop) {
    const list = stopListNow(approval.intent, gathered.stopTargets, recheck.idleStop);
    if ('refusal' in list) {
      return {
        reason: 'out-of-scope',
        message: `${list.refusal}: nothing done; ${id} stays pending until ${iso(approval.expiresAt)}`,
      };
    }
  }
  return undefined;
}

/**
 * Pure: refuse (expired, decided, unknown, another stage's, kill switch, change freeze, resolved, out of
 * scope), or decide: a reject records the decision only; an approve runs the recorded action once, and
 * an update page goes out on the action's incident.
 */
export function planDecision(input: {
  signal: Signal;
  facts: ApproveActionInput;
  gathered: DecisionGathered;
  config: ApproveActionConfig;
}): Plan<DecisionIntent> {
  const { facts, gathered, config: cfg } = input;
  const notes: PlanNote[] = [];
  const refusal = refusalOf(facts, gathered, cfg, input.signal);
  const { approval } = gathered;
  // A member account that is dry-run now gets the preview and no decision: the approval stays pending,
  // so it can be approved again once the account is live (docs/APPROVALS.md says why).
  const accountDry =
    !refusal && approval && facts.decision === 'approve' && gathered.member?.mode === 'dry-run';
  if (accountDry && approval) {
    notes.push({
      decision: 'skipped',
      reason: 'dry-run',
      detail: `account ${gathered.member?.account} is dry-run by ${gathered.member?.by}: previewed only, nothing decided or done; ${facts.approvalId} stays pending until ${iso(approval.expiresAt)}`,
    });
  }
  const dryRun = facts.dryRun === true || accountDry ? { dryRun: true } : {};
  if (refusal || !approval) {
    const { reason, message } = refusal ?? { reason: 'unknown' as const, message: 'no approval' };
    notes.push({ decision: 'skipped', reason, detail: message, withheld: 'approval.decide' });
    return { intents: [], notes, ...dryRun };
  }
  // An idle stop list runs narrowed to the instances that still qualify; each other one is said.
  const recheck = JSON.parse(approval.recheck) as Recheck;
  const list =
    recheck.idleStop && facts.decision === 'approve'
      ? stopListNow(approval.intent, gathered.stopTargets, recheck.idleStop)
      : undefined;
  const narrowed = list && 'intent' in list ? list : undefined;
  for (const s of narrowed?.skipped ?? []) {
    notes.push({
      decision: 'skipped',
      reason: 'nothing-to-do',
      detail: `${s.instanceId}: ${s.why} Not stopped: it no longer qualifies.`,
    });
  }
  const decide: ApprovalDecisionIntent = {
    kind: 'approval.decide',
    approvalId: facts.approvalId,
    decision: facts.decision,
    decidedBy: facts.approvedBy,
    ...(facts.chatUser ? { chatUser: facts.chatUser } : {}),
    ...(facts.reason ? { reason: facts.reason } : {}),
    action: {
      owner: approval.owner,
      ownerFunction: approval.ownerFunction,
      intent: narrowed ? JSON.stringify(narrowed.intent) : approval.intent,
      signal: approval.signal,
      settings: approval.settings,
      preview: approval.preview,
    },
  };
  const original = JSON.parse(approval.signal) as Signal;
  const verb = facts.decision === 'approve' ? 'approved' : 'rejected';
  const update = pageIntent(original, {
    notice: 'incident',
    severity: 'info',
    reason:
      `${facts.approvedBy}${facts.chatUser ? ` (chat user ${facts.chatUser})` : ''} ${verb} ${facts.approvalId}` +
      `${facts.reason ? `: ${facts.reason}` : ''}. It was to ${approval.preview}.` +
      (narrowed && narrowed.skipped.length > 0 ? ` ${skippedSentence(narrowed.skipped)}` : ''),
    say: { title: `${verb}: ${original.title}` },
    nothingDone: 'Nothing: the decision was recorded, nothing else was done.',
  });
  // Its own incident key beside the action's, so the action's suppression window does not swallow it.
  return {
    intents: [decide, { ...update, incidentKey: `${approval.incidentKey}#approval#${facts.approvalId}` }],
    notes,
    ...dryRun,
  };
}
