import { z } from 'zod';
import { AccountId, BoundedEnvelope, notInFuture, RecordId } from '#shared/domain/eventBridge.ts';
import { boundedText, eventString } from '#shared/domain/text.ts';

/**
 * AWS Backup's job state-change events as EventBridge delivers them:
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html (each fixture's source is in
 * events/onBackupFailure/README.md). Backup and copy jobs carry `state`, restore jobs `status`; backup
 * jobs give sizes as strings, copy jobs as numbers: both are read into one shape by signal.ts.
 *
 * Every field that reaches a decision or a page is bounded: the job id keys the incident and the retry
 * claim, the times must be readable and not in the future, ARNs and names have AWS's lengths. The event
 * is only a hint for a retry: what it would back up, where and as whom is read back from AWS.
 */

const name = (max: number) => boundedText({ min: 1, max });

const Arn = eventString()
  .max(2048)
  .regex(/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$/, {
    message: 'must be an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)',
  });

/**
 * A vault's name: yours (1 to 50 letters, digits, . _ -), or one AWS manages for a service, which AWS
 * prefixes with `aws/<service>/` (`aws/backup/AutomatedBackupVaultDel2`, `aws/efs/automatic-backup-vault`
 * in the documented events). Nothing else: no other owner, no path.
 */
const VAULT_NAME = '(aws/[a-z0-9-]{1,32}/)?[A-Za-z0-9._-]{1,50}';

/** The ARN of a backup vault: the page names its vault and region. */
const VaultArn = eventString()
  .max(2048)
  .regex(
    new RegExp(`^arn:aws[a-z-]*:backup:[a-z]{2}(-[a-z]+)+-\\d{1,2}:\\d{12}:backup-vault:${VAULT_NAME}$`),
    {
      message: 'must be a backup vault ARN (arn:<partition>:backup:<region>:<account>:backup-vault:<name>)',
    },
  );

const VaultName = eventString().regex(new RegExp(`^${VAULT_NAME}$`), {
  message:
    'must be a backup vault name (1 to 50 letters, digits, . _ -, or AWS-managed: aws/<service>/<name>)',
});

/**
 * An ARN AWS may not have yet: a copy that failed has no destination recovery point, and AWS sends `{}`
 * for it (the documented FAILED and RUNNING copy events). Read as absent; anything else must be an ARN.
 */
const ArnIfAny = z.union(
  [
    Arn,
    z
      .object({})
      .strict()
      .transform(() => undefined),
  ],
  {
    message: 'must be an ARN, or {} when there is none yet',
  },
);

/** A job time: readable, and not in the future (it is shown as when the job ran). */
const JobTime = eventString().min(1).max(64).superRefine(notInFuture);

/** Bytes: backup jobs send a string of digits, copy jobs a number. */
const Bytes = z.union([
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  eventString().regex(/^\d{1,15}$/, { message: 'must be a whole number of bytes' }),
]);

const Percent = z.union([
  z.number().finite().min(0).max(100),
  eventString().regex(/^\d{1,3}(\.\d{1,6})?$/, { message: 'must be a percentage' }),
]);

/** AWS's own words about the job: shown in the page, and read for what a retry cannot fix. */
const StatusMessage = boundedText({ max: 4096, multiline: true });

const CreatedBy = z.object({
  backupPlanId: name(128).optional(),
  backupPlanArn: Arn.optional(),
  backupPlanVersion: name(128).optional(),
  backupRuleId: name(128).optional(),
  // The rule's id as the documented job events spell it.
  backupPlanRuleId: name(128).optional(),
});

/** The states the rules route: anything else is not this function's (see pattern.json). */
const RoutedState = z.enum(['FAILED', 'ABORTED', 'EXPIRED', 'COMPLETED'], {
  message: 'must be FAILED, ABORTED, EXPIRED or COMPLETED (the rules route no other state)',
});

const JobCommon = {
  accountId: AccountId.optional(),
  creationDate: JobTime,
  completionDate: JobTime.optional(),
  iamRoleArn: Arn.optional(),
  resourceType: name(64),
  statusMessage: StatusMessage.optional(),
  backupSizeInBytes: Bytes.optional(),
  percentDone: Percent.optional(),
  createdBy: CreatedBy.optional(),
};

const BackupJobDetail = z.object({
  ...JobCommon,
  backupJobId: RecordId,
  backupVaultArn: VaultArn,
  backupVaultName: VaultName,
  bytesTransferred: Bytes.optional(),
  resourceArn: Arn,
  recoveryPointArn: ArnIfAny.optional(),
  state: RoutedState,
  // A deadline, normally in the future: shown only.
  startBy: eventString().max(64).optional(),
  // AWS's own attempts within the job's start window; shown, never used to decide (README).
  retryCount: z.number().int().min(0).max(1000).optional(),
});

const CopyJobDetail = z.object({
  ...JobCommon,
  copyJobId: RecordId,
  resourceArn: Arn,
  sourceBackupVaultArn: VaultArn,
  sourceRecoveryPointArn: ArnIfAny.optional(),
  destinationBackupVaultArn: VaultArn,
  destinationRecoveryPointArn: ArnIfAny.optional(),
  state: RoutedState,
});

const RestoreJobDetail = z.object({
  ...JobCommon,
  restoreJobId: RecordId,
  backupVaultArn: VaultArn.optional(),
  recoveryPointArn: ArnIfAny.optional(),
  createdResourceArn: ArnIfAny.optional(),
  status: RoutedState,
});

const Envelope = BoundedEnvelope.extend({ source: z.literal('aws.backup') });

export const BackupJobEvent = Envelope.extend({
  'detail-type': z.literal('Backup Job State Change'),
  detail: BackupJobDetail,
});
export const CopyJobEvent = Envelope.extend({
  'detail-type': z.literal('Copy Job State Change'),
  detail: CopyJobDetail,
});
export const RestoreJobEvent = Envelope.extend({
  'detail-type': z.literal('Restore Job State Change'),
  // The recovery point being restored: a failed restore names it only here (no resourceArn), and the
  // page shows it.
  resources: z.array(Arn).max(20),
  detail: RestoreJobDetail,
});

export const BackupFailureEvent = z.discriminatedUnion('detail-type', [
  BackupJobEvent,
  CopyJobEvent,
  RestoreJobEvent,
]);
export type BackupFailureEvent = z.infer<typeof BackupFailureEvent>;
