import { partitionOf } from '#shared/domain/partition.ts';
import type { ResourceRef } from '#shared/domain/signal.ts';
import type { CloudTrailEvent } from '../schema.ts';
import {
  type DetectionContext,
  detection,
  type Found,
  from,
  isForeignAccount,
  type RemediationTarget,
} from './declaration.ts';
import { shown, valid } from './formats.ts';
import { field, isObj, type Json, list, str } from './json.ts';

/**
 * Data shared out: EBS snapshots, AMIs and RDS snapshots opened to everyone (`all`) or to an account
 * outside this account and the stage's trusted ones; RDS exports to S3.
 */

/** What one sharing call added, each value checked against its format. */
export interface Grants {
  /** `all` was added: anyone may use it. */
  everyone: boolean;
  /** Accounts added that are neither this one nor trusted (a 12-digit id each). */
  foreignAccounts: string[];
  /** Organizations or OUs added that are not the stage's organization (AMIs only). */
  foreignOrganizations: string[];
  /** Added grantees not readable as any of the above: shown, never counted as public or foreign. */
  unreadable: number;
}

/** A shared thing: which call, what resource, and where its id sits in the request. */
interface ShareCall {
  source: 'ec2' | 'rds';
  kind: 'ebs snapshot' | 'ami' | 'rds snapshot' | 'rds cluster snapshot';
  /** The request field that names the resource, and its format. */
  idField: string;
  idFormat: 'ebsSnapshotId' | 'imageId' | 'rdsSnapshot';
  /** Reads what the call added. */
  added(req: Json, e: CloudTrailEvent, context: DetectionContext): Grants | undefined;
}

const orgIdOf = (arn: string) => /\/(o-[a-z0-9]{10,32})(\/|$)/.exec(arn)?.[1];

/** EC2's `{ add: { items: [{ group | userId | organizationArn | organizationalUnitArn }] } }`. */
function ec2Added(permission: Json, e: CloudTrailEvent, context: DetectionContext): Grants {
  const grants: Grants = { everyone: false, foreignAccounts: [], foreignOrganizations: [], unreadable: 0 };
  for (const item of list(field(permission, 'add'))) {
    if (!isObj(item)) {
      grants.unreadable++;
      continue;
    }
    if (item.group !== undefined) {
      // EC2's only group is `all`; anything else is not a public grant, and not readable as one.
      if (item.group === 'all') grants.everyone = true;
      else grants.unreadable++;
      continue;
    }
    if (item.userId !== undefined) {
      const account = valid('accountId', item.userId);
      if (account === undefined) grants.unreadable++;
      else if (isForeignAccount(account, e, context)) grants.foreignAccounts.push(account);
      continue;
    }
    const org =
      valid('organizationArn', item.organizationArn) ??
      valid('organizationalUnitArn', item.organizationalUnitArn);
    if (org === undefined) grants.unreadable++;
    else if (orgIdOf(org) !== context.organizationId) grants.foreignOrganizations.push(org);
  }
  return grants;
}

/** RDS's `attributeName: restore` with `valuesToAdd: [account id | all]`. */
function rdsAdded(req: Json, e: CloudTrailEvent, context: DetectionContext): Grants | undefined {
  if (field(req, 'attributeName') !== 'restore') return undefined;
  const grants: Grants = { everyone: false, foreignAccounts: [], foreignOrganizations: [], unreadable: 0 };
  for (const v of list(field(req, 'valuesToAdd'))) {
    if (v === 'all') {
      grants.everyone = true;
      continue;
    }
    const account = valid('accountId', v);
    if (account === undefined) grants.unreadable++;
    else if (isForeignAccount(account, e, context)) grants.foreignAccounts.push(account);
  }
  return grants;
}

const SHARE_CALLS: Record<string, ShareCall> = {
  ModifySnapshotAttribute: {
    source: 'ec2',
    kind: 'ebs snapshot',
    idField: 'snapshotId',
    idFormat: 'ebsSnapshotId',
    added: (req, e, context) => ec2Added(field(req, 'createVolumePermission'), e, context),
  },
  ModifyImageAttribute: {
    source: 'ec2',
    kind: 'ami',
    idField: 'imageId',
    idFormat: 'imageId',
    added: (req, e, context) => ec2Added(field(req, 'launchPermission'), e, context),
  },
  ModifyDBSnapshotAttribute: {
    source: 'rds',
    kind: 'rds snapshot',
    idField: 'dBSnapshotIdentifier',
    idFormat: 'rdsSnapshot',
    added: rdsAdded,
  },
  ModifyDBClusterSnapshotAttribute: {
    source: 'rds',
    kind: 'rds cluster snapshot',
    idField: 'dBClusterSnapshotIdentifier',
    idFormat: 'rdsSnapshot',
    added: rdsAdded,
  },
};

/** What a sharing call added and to what, or undefined for a call that shares nothing readable. */
export function sharedBy(
  e: CloudTrailEvent,
  context: DetectionContext,
): { call: ShareCall; id: string | undefined; grants: Grants } | undefined {
  const call = SHARE_CALLS[e.detail.eventName];
  if (!call || !from(call.source, e)) return undefined;
  const req = e.detail.requestParameters;
  const added = call.added(req, e, context);
  if (!added) return undefined;
  // A grantee a call lists twice is one grantee: named once in the page, removed once.
  const grants = {
    ...added,
    foreignAccounts: [...new Set(added.foreignAccounts)],
    foreignOrganizations: [...new Set(added.foreignOrganizations)],
  };
  return { call, id: valid(call.idFormat, field(req, call.idField)), grants };
}

function resourceOf(call: ShareCall, id: string, e: CloudTrailEvent): ResourceRef {
  const partition = partitionOf(e.region);
  const account = e.detail.recipientAccountId ?? e.account;
  if (id.startsWith('arn:')) return { type: call.kind, id: id.split(':').pop() ?? id, arn: id };
  const arn =
    call.kind === 'ebs snapshot'
      ? `arn:${partition}:ec2:${e.region}::snapshot/${id}`
      : call.kind === 'ami'
        ? `arn:${partition}:ec2:${e.region}::image/${id}`
        : `arn:${partition}:rds:${e.region}:${account}:${call.kind === 'rds snapshot' ? 'snapshot' : 'cluster-snapshot'}:${id}`;
  return { type: call.kind, id, arn };
}

/** What removes the share exactly, or undefined for an id that names another kind of resource. */
function undoShare(call: ShareCall, id: string, grants: Grants): RemediationTarget | undefined {
  const { everyone, foreignAccounts: accounts } = grants;
  if (call.source === 'ec2') {
    return {
      kind: 'revoke-ec2-share',
      resource: call.kind === 'ami' ? 'image' : 'snapshot',
      id,
      everyone,
      accounts,
    };
  }
  const resource = call.kind === 'rds snapshot' ? 'db-snapshot' : 'db-cluster-snapshot';
  // An ARN must name the kind of snapshot the call is for: a DB snapshot's ARN in a cluster snapshot
  // call (or the reverse) is not what the call changed.
  if (
    id.startsWith('arn:') &&
    id.split(':')[5] !== (resource === 'db-snapshot' ? 'snapshot' : 'cluster-snapshot')
  ) {
    return undefined;
  }
  return { kind: 'revoke-rds-snapshot-share', resource, id, everyone, accounts };
}

function shareFound(e: CloudTrailEvent, context: DetectionContext, publicOnly: boolean): Found | undefined {
  const shared = sharedBy(e, context);
  if (!shared) return undefined;
  const { call, id, grants } = shared;
  const foreign = [...grants.foreignAccounts, ...grants.foreignOrganizations];
  if (publicOnly ? !grants.everyone : grants.everyone || foreign.length === 0) return undefined;
  const name = `${call.kind} ${id ?? shown(call.idFormat, field(e.detail.requestParameters, call.idField))}`;
  const evidence: Record<string, string | undefined> = {
    ...(grants.everyone ? { addedFor: 'all' } : {}),
    ...(grants.foreignAccounts.length > 0 ? { foreignAccounts: grants.foreignAccounts.join(', ') } : {}),
    ...(grants.foreignOrganizations.length > 0
      ? { foreignOrganizations: grants.foreignOrganizations.join(', ') }
      : {}),
    ...(grants.unreadable > 0 ? { unreadableGrantees: String(grants.unreadable) } : {}),
  };
  // The remediation removes exactly what this call added that is public or foreign, nothing else; an
  // organization grant is AMI-only and left to a person.
  const remove = [...(grants.everyone ? ['all'] : []), ...grants.foreignAccounts];
  const remediation = id !== undefined && remove.length > 0 ? undoShare(call, id, grants) : undefined;
  return {
    what: grants.everyone
      ? `${name} made public (shared with all AWS accounts)`
      : `${name} shared with ${foreign.length === 1 ? 'an account' : 'accounts'} outside this account and organization: ${foreign.join(', ')}`,
    ...(id !== undefined ? { resource: resourceOf(call, id, e) } : {}),
    evidence,
    ...(remediation ? { remediation } : {}),
  };
}

const SHARE_CALL_NAMES = Object.keys(SHARE_CALLS);

export const dataSharedPublicly = detection({
  name: 'data-shared-publicly',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  remediations: ['revoke-ec2-share', 'revoke-rds-snapshot-share'],
  describes:
    'an EBS snapshot, AMI, or RDS DB or cluster snapshot shared with all AWS accounts (`all` added to its create-volume, launch or restore permission)',
  watches: { calls: SHARE_CALL_NAMES },
  match: (e, context) => shareFound(e, context, true),
});

export const dataSharedOut = detection({
  name: 'data-shared-out',
  severity: 'high',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  remediations: ['revoke-ec2-share', 'revoke-rds-snapshot-share'],
  describes:
    'an EBS snapshot, AMI, or RDS DB or cluster snapshot shared with an account (or, for an AMI, an organization) outside this account, `cloudTrail.trustedAccounts` and `cloudTrail.organizationId`',
  watches: { calls: SHARE_CALL_NAMES },
  match: (e, context) => shareFound(e, context, false),
});

/**
 * RDS `StartExportTask` writes a snapshot's data to an S3 bucket named only by its name: the record
 * cannot show who owns that bucket (a bucket of another account can be written when its policy lets
 * the export role in), and an export to one's own data lake is routine. So gather asks whether this
 * account owns the bucket: another account's pages, this account's is recorded, and an owner that
 * could not be read is recorded saying so (an unreadable answer is not "shared out").
 */
export const rdsExportedToS3 = detection({
  name: 'rds-exported-to-s3',
  severity: 'high',
  action: 'page',
  describes:
    "an RDS snapshot or cluster exported to an S3 bucket of another account (`StartExportTask`; the owner is read with ListBuckets, `s3:ListAllMyBuckets`); an export to this account's own bucket, or to a bucket whose owner could not be read, is recorded, not paged",
  watches: { calls: ['StartExportTask'] },
  match: (e) => {
    if (!from('rds', e) || e.detail.eventName !== 'StartExportTask') return undefined;
    const req = e.detail.requestParameters;
    const source = valid('rdsSourceArn', field(req, 'sourceArn'));
    const bucket = shown('bucket', field(req, 's3BucketName'));
    return {
      what: `${source ?? 'an RDS snapshot or cluster (unreadable)'} exported to S3 bucket ${bucket}`,
      ...(source
        ? { resource: { type: 'rds export source', id: source.split(':').pop() ?? source, arn: source } }
        : {}),
      evidence: {
        exportTask: valid('rdsExportTask', field(req, 'exportTaskIdentifier')),
        bucket,
        // Whose key encrypts the export: another account's key is a sign the data is leaving.
        kmsKey:
          str(field(req, 'kmsKeyId')) !== undefined ? shown('kmsKey', field(req, 'kmsKeyId')) : undefined,
      },
      // An unreadable bucket name (null) cannot be looked up: recorded, never paged as another account's.
      pagesOnlyIf: { bucketOutsideAccount: valid('bucket', field(req, 's3BucketName')) ?? null },
    };
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const sharingPaged = [dataSharedPublicly, dataSharedOut, rdsExportedToS3] as const;
