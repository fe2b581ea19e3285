import { z } from 'zod';
import { ApprovalRequirement } from '#shared/approval/settings.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { Severity } from '#shared/domain/severity.ts';
import { ChangeCalendars, calendarsOf } from '#shared/runtime/changeCalendarSettings.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * onBackupFailure's stage settings (`backupFailure`). config/stageConfig.ts composes them into a stage's
 * configuration, so only zod and pure domain modules here.
 */
export const BackupFailureSettings = z.strictObject({
  /** A FAILED, ABORTED or EXPIRED backup, copy or restore job. */
  severity: Severity.default('high'),
  /**
   * A COMPLETED job with a status message (the console's "Completed with issues"): `page` it at
   * `completedWithIssuesSeverity`, or `record` it (action log and metric) without a page.
   */
  completedWithIssues: z.enum(['page', 'record']).default('page'),
  completedWithIssuesSeverity: Severity.default('warning'),
  /**
   * Retry a FAILED or ABORTED backup job once with StartBackupJob. Off unless a stage turns it on:
   * the role holds backup:StartBackupJob and iam:PassRole only then.
   */
  retry: z.boolean().default(false),
  /** Days the retry's recovery point is kept: StartBackupJob does not inherit the plan rule's lifecycle. */
  retryDeleteAfterDays: z.number().int().min(1).max(36_500).default(35),
  /** SSM Change Calendars that hold a retry back while CLOSED, besides the stage's `changeCalendars`. */
  changeCalendars: ChangeCalendars.optional(),
  /** `'required'`: the retry waits for a person's approval (approveAction) instead of starting. */
  approval: ApprovalRequirement,
});
export type BackupFailureSettings = z.infer<typeof BackupFailureSettings>;

/** A retry is held by the backup failure's calendars too (the stage's are the runtime's). */
export function backupFreezeScope(
  intent: Intent,
  config: { backupFailure: BackupFailureSettings },
): FreezeScope {
  return intent.kind === 'backup.retry-job' ? { calendars: config.backupFailure.changeCalendars ?? [] } : {};
}

/** The calendars onBackupFailure may read on a stage: none unless it retries (its role's grant). */
export function backupChangeCalendars(stage: {
  changeCalendars: readonly string[];
  backupFailure: BackupFailureSettings;
}): string[] {
  return stage.backupFailure.retry
    ? calendarsOf(stage.changeCalendars, stage.backupFailure.changeCalendars)
    : [];
}

/** onBackupFailure's key in a stage. */
export const settings = functionSettings({ backupFailure: BackupFailureSettings.prefault({}) }, (s) =>
  s.backupFailure.approval !== undefined && !s.backupFailure.retry
    ? 'backupFailure.approval: a retry waits for approval only when backupFailure.retry is true'
    : undefined,
);

/** The stage settings onBackupFailure reads (its own): its spec's `settings`, all the runtime parses for it. */
export const specSettings = [settings] as const;
/** onBackupFailure's configuration: the shared keys and those of its spec's settings, no other function's. */
export type BackupFailureConfig = RuntimeConfig<typeof specSettings>;
