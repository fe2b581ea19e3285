import type { ApprovalNeed } from '#shared/approval/recheck.ts';
import type { BackupFailureIntent } from './plan.ts';
import type { BackupFailureConfig } from './settings.ts';

/**
 * A retry on a stage with `backupFailure.approval: 'required'` waits for a person. approveAction checks
 * again, before it starts it, what the retry checks now: AWS Backup's answer about the failed job, judged
 * by the same verdict the plan used (still FAILED or ABORTED, recent, from a plan, this account and
 * region, a failure a retry can fix), the same vault, resource and role as recorded, and no retry claimed
 * meanwhile. The executor's claim then holds the retry to once, and the rate guard to its window.
 */
export function backupApproval(
  intent: BackupFailureIntent,
  cfg: BackupFailureConfig,
): ApprovalNeed | undefined {
  if (intent.kind !== 'backup.retry-job' || cfg.backupFailure.approval !== 'required') return undefined;
  return {
    rule: 'backup-retry',
    settings: { backupFailure: cfg.backupFailure },
    recheck: { backupRetry: true },
  };
}
