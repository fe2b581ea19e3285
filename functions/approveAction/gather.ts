import type { Recheck } from '#shared/approval/recheck.ts';
import { readInstanceTags } from '#shared/aws/instanceTags.ts';
import { type RetryRecheckRead, readRetryRecheck } from '#shared/backup/retryRecheck.ts';
import type { TargetFacts } from '#shared/domain/instanceScope.ts';
import type { RetryBackupIntent, StopInstancesIntent } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { StopTargets } from '#shared/idle/approval.ts';
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
  const [killSwitch, freeze, recoveredAt, target, backupRetry, stopTargets] = await Promise.all([
    // A dry-run stage never acts: its preview needs no switch.
    cfg.dryRun ? undefined : readKillSwitch(cfg.stage),
    cfg.dryRun || calendars.length === 0 ? undefined : changeFreezeState(calendars),
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
          readStopTargets(JSON.parse(approval.intent) as StopInstancesIntent, input.signal),
        )
      : undefined,
  ]);
  return {
    approval,
    now,
    ...(killSwitch ? { killSwitch } : {}),
    ...(freeze ? { freeze } : {}),
    ...(recoveredAt !== undefined ? { recoveredAt } : {}),
    ...(target ? { target } : {}),
    ...(backupRetry ? { backupRetry } : {}),
    ...(stopTargets ? { stopTargets } : {}),
  };
}
