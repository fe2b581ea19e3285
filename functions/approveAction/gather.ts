import { memberTargetOf, recordedAccountOf } from '#shared/approval/memberAccount.ts';
import type { Recheck } from '#shared/approval/recheck.ts';
import { readInstanceTags } from '#shared/aws/instanceTags.ts';
import { type RetryRecheckRead, readRetryRecheck } from '#shared/backup/retryRecheck.ts';
import { describeError } from '#shared/domain/errorText.ts';
import type { TargetFacts } from '#shared/domain/instanceScope.ts';
import type { Intent, RetryBackupIntent, StopInstancesIntent } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { StopTargets } from '#shared/idle/approval.ts';
import { MemberRoleUnavailable } from '#shared/organization/account.ts';
import { type ActingTarget, actInTarget } from '#shared/organization/target.ts';
import { calendarsFor, changeFreezeState, type FreezeState } from '#shared/runtime/changeFreeze.ts';
import { type KillSwitch, readKillSwitch } from '#shared/runtime/killSwitch.ts';
import { type PendingApproval, readApproval } from '#shared/state/approvals.ts';
import { lastRecoveryAt } from '#shared/state/recovery.ts';
import { actingFor, nowSeconds } from '#shared/state/table.ts';
import type { ApproveActionInput } from './schema.ts';
import type { ApproveActionConfig } from './settings.ts';

/**
 * The reads: the pending record; for an approval still open, what a live action checks now. The
 * calendars' ssm:GetCalendarState is declared with the calendars its role may read (its deployment's
 * changeCalendars), not here: a stage where no function asks for approval has none to read.
 */
export const gatherPermissions = [
  'dynamodb:GetItem',
  'ssm:GetParameter',
  'tag:GetResources',
  // A backup retry's re-check: the failed job, read again.
  'backup:DescribeBackupJob',
  // An idle stop list's instances, read again (shared/idle/approval.ts).
  'ec2:DescribeInstances',
] as const;

export interface DecisionGathered {
  approval?: PendingApproval;
  /** Epoch seconds of the read, against which the expiry is judged. */
  now: number;
  killSwitch?: KillSwitch;
  /** The change calendars read now: the stage's and the action's rule's (a closed one refuses). */
  freeze?: FreezeState;
  /** Epoch ms of the incident's latest OK (the owner's incident record), when there is one. */
  recoveredAt?: number;
  /** The runbook target's tags, read again. */
  target?: TargetFacts;
  /** A backup retry's failed job and retry claim, read again (as onBackupFailure). */
  backupRetry?: RetryRecheckRead;
  /** An idle stop list's instances, read again. */
  stopTargets?: StopTargets;
  /**
   * The member account the record names, served and not off now (shared/approval/memberAccount.ts):
   * the re-checks above were read there, and the action runs there. Absent: the account it runs in.
   */
  member?: { account: string; region: string; mode: 'live' | 'dry-run'; by: string; session?: string };
  /** Why the record's account or region may not be acted in now: nothing was assumed or read there. */
  accountRefusal?: string;
}

const isOpen = (approval: PendingApproval, now: number) =>
  approval.status === 'pending' && approval.expiresAt > now;

/**
 * Read-only. The re-checks run only for an approval that could still act, and only those its owner
 * asked for (its Recheck): the owner's incident record (as the owner: its key prefix), the target.
 */
export async function gatherDecision(input: {
  signal: Signal;
  facts: ApproveActionInput;
  config: ApproveActionConfig;
}): Promise<DecisionGathered> {
  const { facts, config: cfg } = input;
  const approval = await readApproval(facts.approvalId);
  const now = nowSeconds();
  if (!approval || !isOpen(approval, now) || approval.stage !== cfg.stage || facts.decision === 'reject') {
    return { ...(approval ? { approval } : {}), now };
  }
  const recheck = JSON.parse(approval.recheck) as Recheck;
  const signal = JSON.parse(approval.signal) as Signal;
  const calendars = calendarsFor(cfg.changeCalendars, recheck.freeze ?? {});
  const [killSwitch, freeze, account] = await Promise.all([
    // A dry-run stage never acts: its preview needs no switch.
    cfg.dryRun ? undefined : readKillSwitch(cfg.stage),
    cfg.dryRun || calendars.length === 0 ? undefined : changeFreezeState(calendars),
    // Where the record says the action is: in the central account, nothing assumed yet.
    recordedAccountOf(signal, JSON.parse(approval.intent) as Intent, input.signal, cfg),
  ]);
  const refusedAlready = killSwitch?.forced === true || freeze?.closed === true || 'refusal' in account;
  const base = {
    approval,
    now,
    ...(killSwitch ? { killSwitch } : {}),
    ...(freeze ? { freeze } : {}),
    ...('refusal' in account ? { accountRefusal: account.refusal } : {}),
  };
  // The kill switch wins, a freeze holds, a refused account gets no AssumeRole: nothing more is read.
  if (refusedAlready) return base;
  if (account.at === 'here')
    return { ...base, ...(await readRechecks(approval, recheck, signal, input.signal)) };
  const target = memberTargetOf(account, cfg.stage, cfg.functionName);
  await assumed(target);
  // Read where the action acts: the member's instances, tags and backup jobs, as the owner would.
  const read = await actInTarget(target, () => readRechecks(approval, recheck, signal, account));
  const { at: _member, ...member } = account;
  return { ...base, ...read, member: { ...member, ...(target.session ? { session: target.session } : {}) } };
}

/** The member role, assumed before anything is read there: a refused AssumeRole names the role. */
async function assumed(target: ActingTarget): Promise<void> {
  try {
    await target.credentials();
  } catch (error) {
    throw new MemberRoleUnavailable(
      `could not assume the member role of account ${target.account} (${describeError(error)}); nothing was read or done there`,
      { cause: error },
    );
  }
}

/** The re-checks the owner asked for, read in the account and region the action acts in. */
async function readRechecks(
  approval: PendingApproval,
  recheck: Recheck,
  signal: Signal,
  where: { account: string; region: string },
): Promise<Pick<DecisionGathered, 'recoveredAt' | 'target' | 'backupRetry' | 'stopTargets'>> {
  const [recoveredAt, target, backupRetry, stopTargets] = await Promise.all([
    recheck.alarmOpen
      ? actingFor(approval.ownerFunction, () => lastRecoveryAt(approval.incidentKey))
      : undefined,
    recheck.instance ? readInstanceTags(recheck.instance.instanceId, signal) : undefined,
    recheck.backupRetry
      ? actingFor(approval.ownerFunction, () =>
          readRetryRecheck(JSON.parse(approval.intent) as RetryBackupIntent),
        )
      : undefined,
    recheck.idleStop
      ? import('#shared/idle/stopListRead.ts').then(({ readStopTargets }) =>
          readStopTargets(JSON.parse(approval.intent) as StopInstancesIntent, where),
        )
      : undefined,
  ]);
  return {
    ...(recoveredAt !== undefined ? { recoveredAt } : {}),
    ...(target ? { target } : {}),
    ...(backupRetry ? { backupRetry } : {}),
    ...(stopTargets ? { stopTargets } : {}),
  };
}
