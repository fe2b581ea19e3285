import type { EvidenceLink, ResourceRef, Signal } from '#shared/domain/signal.ts';
import type { Observation } from '#shared/runtime/functionSpec.ts';
import type { BackupFailureEvent } from './schema.ts';

export type JobType = 'backup' | 'copy' | 'restore';
export type JobState = 'FAILED' | 'ABORTED' | 'EXPIRED' | 'COMPLETED';

/** One vault a job reads from or writes to, with the region its ARN names. */
export interface VaultRef {
  arn: string;
  name: string;
  region: string;
}

/** A backup, copy or restore job in one shape, whatever the event called its fields. */
export interface BackupJob {
  type: JobType;
  id: string;
  state: JobState;
  /** AWS's status message, without the quotes AWS sometimes wraps it in. */
  statusMessage?: string;
  resourceType: string;
  resourceArn?: string;
  /** The vault a backup job writes to, or a restore job reads from. */
  vault?: VaultRef;
  /** A copy job's source and destination. */
  source?: VaultRef;
  destination?: VaultRef;
  recoveryPointArn?: string;
  createdResourceArn?: string;
  backupPlanId?: string;
  backupPlanArn?: string;
  backupRuleId?: string;
  iamRoleArn?: string;
  createdAt: string;
  completedAt?: string;
  sizeBytes?: number;
  /** AWS's own attempt count for a backup job: shown, never used to decide. */
  awsRetryCount?: number;
}

export interface BackupFailureFacts {
  job: BackupJob;
  /** `failed`: FAILED, ABORTED or EXPIRED; `completed-with-issues`: COMPLETED with a status message. */
  outcome: 'failed' | 'completed-with-issues' | 'completed';
}

/** `arn:aws:backup:eu-west-1:111122223333:backup-vault:Default` -> its name and region. */
export function vaultOf(arn: string): VaultRef {
  const parts = arn.split(':');
  return { arn, name: parts.slice(6).join(':'), region: parts[3] ?? '' };
}

const bytes = (value: number | string | undefined): number | undefined =>
  value === undefined ? undefined : Number(value);

/** AWS quotes some status messages (`"Backup job failed ..."`): the page shows the words. */
export function unquote(message: string | undefined): string | undefined {
  if (message === undefined) return undefined;
  const trimmed = message.trim();
  const inner = /^"(.*)"$/s.exec(trimmed)?.[1] ?? trimmed;
  return inner.length > 0 ? inner : undefined;
}

export function jobOf(event: BackupFailureEvent): BackupJob {
  const d = event.detail;
  const common = {
    resourceType: d.resourceType,
    createdAt: d.creationDate,
    ...(d.completionDate ? { completedAt: d.completionDate } : {}),
    ...(d.iamRoleArn ? { iamRoleArn: d.iamRoleArn } : {}),
    ...(unquote(d.statusMessage) ? { statusMessage: unquote(d.statusMessage) } : {}),
    ...(d.backupSizeInBytes !== undefined ? { sizeBytes: bytes(d.backupSizeInBytes) } : {}),
    ...(d.createdBy?.backupPlanId ? { backupPlanId: d.createdBy.backupPlanId } : {}),
    ...(d.createdBy?.backupPlanArn ? { backupPlanArn: d.createdBy.backupPlanArn } : {}),
    ...(d.createdBy?.backupRuleId || d.createdBy?.backupPlanRuleId
      ? { backupRuleId: d.createdBy.backupRuleId ?? d.createdBy.backupPlanRuleId }
      : {}),
  };
  switch (event['detail-type']) {
    case 'Backup Job State Change': {
      const b = event.detail;
      return {
        ...common,
        type: 'backup',
        id: b.backupJobId,
        state: b.state,
        resourceArn: b.resourceArn,
        vault: { ...vaultOf(b.backupVaultArn), name: b.backupVaultName },
        ...(b.recoveryPointArn ? { recoveryPointArn: b.recoveryPointArn } : {}),
        ...(b.retryCount !== undefined ? { awsRetryCount: b.retryCount } : {}),
      };
    }
    case 'Copy Job State Change': {
      const c = event.detail;
      return {
        ...common,
        type: 'copy',
        id: c.copyJobId,
        state: c.state,
        resourceArn: c.resourceArn,
        source: vaultOf(c.sourceBackupVaultArn),
        destination: vaultOf(c.destinationBackupVaultArn),
        ...(c.sourceRecoveryPointArn ? { recoveryPointArn: c.sourceRecoveryPointArn } : {}),
      };
    }
    case 'Restore Job State Change': {
      const r = event.detail;
      // A restore's event names the recovery point it restores in `resources` (an AMI, a snapshot, a
      // recovery point), and in `detail` only sometimes: a failed restore has no other name.
      const recoveryPointArn = r.recoveryPointArn ?? event.resources[0];
      return {
        ...common,
        type: 'restore',
        id: r.restoreJobId,
        state: r.status,
        ...(r.backupVaultArn ? { vault: vaultOf(r.backupVaultArn) } : {}),
        ...(recoveryPointArn ? { recoveryPointArn } : {}),
        ...(r.createdResourceArn ? { createdResourceArn: r.createdResourceArn } : {}),
      };
    }
  }
}

/** The last part of a resource ARN (`vol-0abc`, `table/orders` -> `orders`): what people call it. */
export function shortResource(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const resource = arn.split(':').slice(5).join(':');
  // `volume/vol-1`, `table/orders`, `db:billing`: the name is the last part either way.
  return resource.split(/[/:]/).at(-1) || resource;
}

/** The job in the AWS Backup console of its region (and partition). */
export function consoleLink(job: BackupJob, region: string, partition: string): string {
  const host =
    partition === 'aws-cn'
      ? `${region}.console.amazonaws.cn`
      : partition === 'aws-us-gov'
        ? `${region}.console.amazonaws-us-gov.com`
        : `${region}.console.aws.amazon.com`;
  return `https://${host}/backup/home?region=${region}#/jobs/${job.type}/details/${encodeURIComponent(job.id)}`;
}

const describeState = (job: BackupJob): string =>
  job.state === 'COMPLETED' ? (job.statusMessage ? 'COMPLETED with issues' : 'COMPLETED') : job.state;

/** A message as the end of a sentence: one final full stop, whether or not AWS wrote it. */
export const asSentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

/** A size people read: `1.5 GiB (1610612736 bytes)`. */
export function describeSize(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${Math.round(value * 10) / 10} ${units[unit]} (${n} bytes)`;
}

const describeVault = (v: VaultRef) => `${v.name} in ${v.region} (${v.arn})`;

/** What the page shows about the job: every field a person on call asks for, when AWS sent it. */
export function jobEvidence(job: BackupJob): Record<string, string | number> {
  return {
    jobId: job.id,
    jobType: job.type,
    state: describeState(job),
    statusMessage: job.statusMessage ?? 'none given by AWS Backup',
    resourceType: job.resourceType,
    ...(job.resourceArn ? { resourceArn: job.resourceArn } : {}),
    ...(job.createdResourceArn ? { createdResourceArn: job.createdResourceArn } : {}),
    ...(job.vault ? { vault: describeVault(job.vault) } : {}),
    ...(job.source ? { sourceVault: describeVault(job.source) } : {}),
    ...(job.destination ? { destinationVault: describeVault(job.destination) } : {}),
    ...(job.recoveryPointArn ? { recoveryPoint: job.recoveryPointArn } : {}),
    ...(job.backupPlanId || job.backupPlanArn
      ? { backupPlan: job.backupPlanArn ?? job.backupPlanId ?? '' }
      : {}),
    ...(job.backupRuleId ? { backupRule: job.backupRuleId } : {}),
    ...(job.iamRoleArn ? { iamRole: job.iamRoleArn } : {}),
    created: job.createdAt,
    completed: job.completedAt ?? 'not completed',
    ...(job.sizeBytes !== undefined ? { size: describeSize(job.sizeBytes) } : {}),
    ...(job.awsRetryCount !== undefined ? { awsRetryCount: job.awsRetryCount } : {}),
  };
}

const TYPE_WORD: Record<JobType, string> = { backup: 'Backup', copy: 'Copy', restore: 'Restore' };

/** Pure: what a job state-change event says, computed once. */
export function observeBackupFailure(event: BackupFailureEvent): Observation<BackupFailureFacts> {
  const job = jobOf(event);
  const outcome =
    job.state !== 'COMPLETED' ? 'failed' : job.statusMessage ? 'completed-with-issues' : 'completed';
  const partition = event.resources[0]?.split(':')[1] ?? job.resourceArn?.split(':')[1] ?? 'aws';
  // A restore names the resource it creates, if any; else the recovery point it restores.
  const named = shortResource(job.resourceArn ?? job.createdResourceArn ?? job.recoveryPointArn);
  const what = named ? `${job.resourceType} ${named}` : job.resourceType;
  const where = job.destination
    ? ` to ${job.destination.name} (${job.destination.region})`
    : job.vault
      ? ` (vault ${job.vault.name})`
      : '';
  const resources: ResourceRef[] = [
    { type: `${job.type} job`, id: job.id },
    ...(job.resourceArn
      ? [{ type: job.resourceType, id: named ?? job.resourceArn, arn: job.resourceArn }]
      : []),
    ...(job.type === 'restore' && job.recoveryPointArn
      ? [
          {
            type: 'recovery point',
            id: shortResource(job.recoveryPointArn) ?? job.recoveryPointArn,
            arn: job.recoveryPointArn,
          },
        ]
      : []),
    ...(job.vault ? [{ type: 'backup vault', id: job.vault.name, arn: job.vault.arn }] : []),
    ...(job.source ? [{ type: 'source vault', id: job.source.name, arn: job.source.arn }] : []),
    ...(job.destination
      ? [{ type: 'destination vault', id: job.destination.name, arn: job.destination.arn }]
      : []),
  ];
  const links: EvidenceLink[] = [
    {
      label: `${TYPE_WORD[job.type]} job (AWS Backup console)`,
      url: consoleLink(job, event.region, partition),
    },
  ];
  const signal: Signal = {
    kind: 'backup.job',
    severity: outcome === 'failed' ? 'high' : 'warning',
    title: `${TYPE_WORD[job.type]} job ${describeState(job)}: ${what}${where}`,
    summary:
      `AWS Backup reports ${job.type} job ${job.id} of ${job.resourceType} ${job.resourceArn ?? job.createdResourceArn ?? job.recoveryPointArn ?? ''}`.trimEnd() +
      ` as ${describeState(job)}: ${asSentence(job.statusMessage ?? 'no status message given')}`,
    account: event.account,
    region: event.region,
    resources,
    correlationId: event.id,
    // One incident per job: every delivery of its state change belongs to it.
    incidentKey: `backup-job:${event.account}:${event.region}:${job.type}:${job.id}`,
    occurredAt: job.completedAt ?? event.time,
    evidence: jobEvidence(job),
    links,
  };
  return { facts: { job, outcome }, signal };
}
