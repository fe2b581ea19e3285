import { partitionOf } from '#shared/domain/partition.ts';
import type { ResourceRef } from '#shared/domain/signal.ts';
import { detection, type Found, from } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { field, isObj, type Json, list, str } from './json.ts';

/** Evidence and recovery destroyed: logs turned off, backups and their protections removed. */

const bucketRef = (e: { region: string }, req: Json): ResourceRef => {
  const bucket = valid('bucket', field(req, 'bucketName'));
  return bucket
    ? { type: 's3 bucket', id: bucket, arn: `arn:${partitionOf(e.region)}:s3:::${bucket}` }
    : { type: 's3 bucket', id: '(unreadable)' };
};

export const logsDeleted = detection({
  name: 'logs-deleted',
  severity: 'high',
  action: 'page',
  describes:
    'Route 53 resolver query logging deleted or disassociated, S3 server access logging turned off, an RDS database activity stream stopped, Bedrock model-invocation logging deleted, EKS control-plane logging turned off',
  watches: {
    calls: [
      'DeleteResolverQueryLogConfig',
      'DisassociateResolverQueryLogConfig',
      'PutBucketLogging',
      'StopActivityStream',
      'DeleteModelInvocationLoggingConfiguration',
      'UpdateClusterConfig',
    ],
  },
  match: (e): Found | undefined => {
    const req = e.detail.requestParameters;
    const n = e.detail.eventName;
    if (from('route53resolver', e) && /^(Delete|Disassociate)ResolverQueryLogConfig$/.test(n)) {
      const id = shown('resolverQueryLogConfigId', field(req, 'resolverQueryLogConfigId'));
      const vpc = str12(field(req, 'resourceId'));
      return {
        what:
          n === 'DeleteResolverQueryLogConfig'
            ? `Route 53 resolver query logging ${id} deleted`
            : `Route 53 resolver query logging ${id} disassociated${vpc ? ` from ${vpc}` : ''}`,
        resource: { type: 'resolver query log config', id },
        evidence: {},
      };
    }
    if (from('s3', e) && n === 'PutBucketLogging') {
      // Off only when the request carries a logging status with no LoggingEnabled: a missing or
      // unreadable status is unknown, never "turned off".
      const status = field(req, 'BucketLoggingStatus');
      if (!isObj(status) || field(status, 'LoggingEnabled') !== undefined) return undefined;
      const resource = bucketRef(e, req);
      return { what: `bucket ${resource.id} server access logging turned off`, resource, evidence: {} };
    }
    if (from('rds', e) && n === 'StopActivityStream') {
      const arn = valid('rdsArn', field(req, 'resourceArn'));
      const id = arn?.split(':').pop() ?? '(unreadable)';
      return {
        what: `RDS database activity stream of ${id} stopped`,
        resource: { type: 'rds database', id, ...(arn ? { arn } : {}) },
        evidence: {},
      };
    }
    if (from('bedrock', e) && n === 'DeleteModelInvocationLoggingConfiguration') {
      return { what: `Bedrock model-invocation logging deleted in ${e.detail.awsRegion}`, evidence: {} };
    }
    if (from('eks', e) && n === 'UpdateClusterConfig') return eksLoggingOff(req);
    return undefined;
  },
});

/** EKS control-plane log types: https://docs.aws.amazon.com/eks/latest/APIReference/API_LogSetup.html */
const EKS_LOG_TYPE = /^(api|audit|authenticator|controllerManager|scheduler)$/;
const EKS_CLUSTER = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;

/**
 * UpdateClusterConfig that turns control-plane log types off (Elastic's "AWS EKS Control Plane Logging
 * Disabled"): the audit log is the only record of who did what inside the cluster. Only a log setup
 * whose `enabled` is false counts; other settings (endpoint access, upgrades) are not this finding.
 */
function eksLoggingOff(req: Json): Found | undefined {
  const setups = list(field(field(req, 'logging'), 'clusterLogging'));
  const off = setups
    .filter((s) => field(s, 'enabled') === false)
    .flatMap((s) => list(field(s, 'types')).map((t) => str(t)))
    .filter((t): t is string => t !== undefined && EKS_LOG_TYPE.test(t));
  if (off.length === 0) return undefined;
  const raw = str(field(req, 'name'));
  const cluster = raw !== undefined && EKS_CLUSTER.test(raw) ? raw : '(unreadable)';
  return {
    what: `EKS cluster ${cluster} control-plane logging turned off: ${[...new Set(off)].join(', ')}`,
    resource: { type: 'eks cluster', id: cluster },
    evidence: {},
  };
}

/** A VPC id as the disassociation names it, else nothing. */
const str12 = (v: Json) => (typeof v === 'string' && /^vpc-[0-9a-f]{8,17}$/.test(v) ? v : undefined);

/** The page's reminder that AWS Backup's own failures are watched too. */
const BACKUP_NOTE =
  "backup failures are also watched by onBackupFailure: a deleted vault's or plan's jobs will fail or stop";

export const backupsDestroyed = detection({
  name: 'backups-destroyed',
  severity: 'critical',
  action: 'page',
  describes:
    'AWS Backup vault, plan or recovery point deleted, vault access policy set or lock removed; RDS automated backups deleted, or an RDS database deleted without a final snapshot',
  watches: {
    calls: [
      'DeleteBackupVault',
      'DeleteBackupPlan',
      'DeleteRecoveryPoint',
      'PutBackupVaultAccessPolicy',
      'DeleteBackupVaultLockConfiguration',
      'DeleteDBInstanceAutomatedBackup',
      'DeleteDBClusterAutomatedBackup',
      'DeleteDBInstance',
      'DeleteDBCluster',
    ],
  },
  match: (e): Found | undefined => {
    const req = e.detail.requestParameters;
    const n = e.detail.eventName;
    if (from('backup', e)) {
      const vault = shown('backupName', field(req, 'backupVaultName'));
      // A Map, so a crafted call name such as `constructor` finds nothing rather than a prototype member.
      const what = new Map([
        ['DeleteBackupVault', `backup vault ${vault} deleted`],
        ['DeleteBackupPlan', `backup plan ${shown('backupPlanId', field(req, 'backupPlanId'))} deleted`],
        [
          'DeleteRecoveryPoint',
          `recovery point ${shown('backupRecoveryPoint', field(req, 'recoveryPointArn'))} in vault ${vault} deleted`,
        ],
        ['PutBackupVaultAccessPolicy', `backup vault ${vault} access policy changed`],
        ['DeleteBackupVaultLockConfiguration', `backup vault ${vault} lock removed`],
      ]);
      const line = what.get(n);
      if (line === undefined) return undefined;
      return {
        what: line,
        ...(n === 'DeleteBackupPlan' ? {} : { resource: { type: 'backup vault', id: vault } }),
        evidence: { note: BACKUP_NOTE },
      };
    }
    if (!from('rds', e)) return undefined;
    if (n === 'DeleteDBInstanceAutomatedBackup' || n === 'DeleteDBClusterAutomatedBackup') {
      const id = shown('rdsResourceId', field(req, 'dbiResourceId') ?? field(req, 'dbClusterResourceId'));
      return {
        what: `RDS automated backups of ${id} deleted`,
        resource: { type: 'rds automated backup', id },
        evidence: {},
      };
    }
    if (n === 'DeleteDBInstance' || n === 'DeleteDBCluster') {
      // Only an explicit true skips the snapshot; false, missing or unreadable is not this finding.
      const skip = field(req, 'skipFinalSnapshot');
      if (skip !== true && skip !== 'true') return undefined;
      const kind = n === 'DeleteDBInstance' ? 'instance' : 'cluster';
      const id = shown(
        'rdsIdentifier',
        field(req, kind === 'instance' ? 'dBInstanceIdentifier' : 'dBClusterIdentifier'),
      );
      return {
        what: `RDS ${kind} ${id} deleted without a final snapshot`,
        resource: { type: `rds ${kind}`, id },
        evidence: { skipFinalSnapshot: 'true' },
      };
    }
    return undefined;
  },
});

export const recoveryProtectionOff = detection({
  name: 'recovery-protection-off',
  severity: 'high',
  action: 'page',
  describes: 'RDS deletion protection turned off, S3 versioning suspended or MFA delete disabled',
  watches: { calls: ['ModifyDBInstance', 'ModifyDBCluster', 'PutBucketVersioning'] },
  match: (e): Found | undefined => {
    const req = e.detail.requestParameters;
    const n = e.detail.eventName;
    if (from('rds', e) && (n === 'ModifyDBInstance' || n === 'ModifyDBCluster')) {
      // Only an explicit false turns it off; a request that does not set it leaves it as it was.
      const protection = field(req, 'deletionProtection');
      if (protection !== false && protection !== 'false') return undefined;
      const kind = n === 'ModifyDBInstance' ? 'instance' : 'cluster';
      const id = shown(
        'rdsIdentifier',
        field(req, kind === 'instance' ? 'dBInstanceIdentifier' : 'dBClusterIdentifier'),
      );
      return {
        what: `RDS ${kind} ${id} deletion protection turned off`,
        resource: { type: `rds ${kind}`, id },
        evidence: { deletionProtection: 'false' },
      };
    }
    if (from('s3', e) && n === 'PutBucketVersioning') {
      const config = field(req, 'VersioningConfiguration');
      const off = [
        ...(field(config, 'Status') === 'Suspended' ? ['versioning suspended'] : []),
        ...(field(config, 'MfaDelete') === 'Disabled' ? ['MFA delete disabled'] : []),
      ];
      if (off.length === 0) return undefined;
      const resource = bucketRef(e, req);
      return {
        what: `bucket ${resource.id} ${off.join(', ')}`,
        resource,
        evidence: { turnedOff: off.join(', ') },
      };
    }
    return undefined;
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const evidencePaged = [logsDeleted, backupsDestroyed, recoveryProtectionOff] as const;
