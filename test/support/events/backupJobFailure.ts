import type { z } from 'zod';
import type { BackupJobEvent } from '#functions/onBackupFailure/schema.ts';
import { type EnvelopeOverrides, fromFixture, withEnvelope } from './fixture.ts';

/** An AWS Backup job state change as EventBridge delivers it, before onBackupFailure's schema reads it. */
export type BackupJobStateChange = z.input<typeof BackupJobEvent>;

export interface BackupJobFailureOverrides extends EnvelopeOverrides {
  /** The job's id: the incident, and what a retry is claimed under. */
  backupJobId?: string;
  /** What the job backed up (a retry backs it up again). */
  resourceArn?: string;
  /** The vault's name; its ARN follows in the event's region and account. */
  backupVaultName?: string;
}

/**
 * A backup job's state change from `events/onBackupFailure/<fixture>.json` (default: a failed EBS
 * backup), with the given fields changed where AWS Backup puts them.
 */
export function backupJobFailure(
  fixture = 'backup-job-failed-ebs',
  overrides: BackupJobFailureOverrides = {},
): BackupJobStateChange {
  const event = withEnvelope(fromFixture<BackupJobStateChange>('onBackupFailure', fixture), overrides);
  const { detail } = event;
  if (overrides.backupJobId !== undefined) detail.backupJobId = overrides.backupJobId;
  if (overrides.resourceArn !== undefined) detail.resourceArn = overrides.resourceArn;
  if (overrides.backupVaultName !== undefined) {
    detail.backupVaultName = overrides.backupVaultName;
    detail.backupVaultArn = `arn:aws:backup:${event.region}:${event.account}:backup-vault:${overrides.backupVaultName}`;
  }
  return event;
}
