import type { InstanceScope } from '#shared/domain/instanceScope.ts';
import type { IdleStopRecheck } from '#shared/idle/approval.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';

/**
 * What approveAction checks again, now, before it executes an approved action: besides the kill switch,
 * the change freeze, the rate guard, the hourly budget and the deadline, which every live action meets.
 * The owning function states them when it plans the action, with its own scope rules.
 */
export interface Recheck {
  /** The runbook's target instance must still be in scope (opt-in tag, not managed). */
  instance?: InstanceScope;
  /** The alarm incident must still be open: no OK recorded after the ALARM the action answers. */
  alarmOpen?: true;
  /**
   * The action's rule or detection calendars (and its `ignoreChangeFreeze`), recorded by the pipeline:
   * approveAction reads them, with its stage's calendars, again when the approval comes.
   */
  freeze?: FreezeScope;
  /**
   * A CloudTrail remediation: it acts only in the account and region of the record it undoes, which must
   * be approveAction's own, and only on ids in their AWS format (shared/approval/remediationScope.ts).
   */
  remediation?: true;
  /**
   * A backup retry: the failed job read again from AWS Backup must still be one the retry's own verdict
   * allows, with the vault, resource and role recorded, and not retried meanwhile
   * (shared/backup/retryRecheck.ts).
   */
  backupRetry?: true;
  /**
   * An idle stop list: each instance read again and judged by the idle stopper's own scope rules;
   * those that no longer qualify are skipped, the rest stopped (shared/idle/approval.ts).
   */
  idleStop?: IdleStopRecheck;
}

/**
 * The owners' settings a pending action may carry for its executor (ApprovalNeed.settings): onAlarm's
 * runbook limits, the idle stopper's `idleStop`, onBackupFailure's `backupFailure`. approveAction lays
 * them over its own configuration, so a record carrying any other key (a rate guard, a role, the
 * organization) is refused: a record someone changed must not loosen what the action is held to.
 */
export const RECORDED_SETTINGS = ['runbooks', 'idleStop', 'backupFailure'] as const;

/** Why an intent waits for a person, from the owning function's settings (its spec's `approval`). */
export interface ApprovalNeed {
  /** The rule or detection that asks for it. */
  rule: string;
  /** The owner's settings its executor reads besides the shared keys (the runbook limits). */
  settings?: Record<string, unknown>;
  recheck: Recheck;
}
