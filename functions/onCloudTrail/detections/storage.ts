import { partitionOf } from '#shared/domain/partition.ts';
import { truncated } from '#shared/domain/text.ts';
import { detection, from } from './declaration.ts';
import { port, shown, valid } from './formats.ts';
import { excerpt, field, isObj, type Json, list, str, values } from './json.ts';
import { publicStatements } from './policies.ts';

/** Storage: buckets made public, KMS keys disabled or scheduled for deletion. */

const PUBLIC_GROUPS = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
/** S3's ACL permissions: https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions */
const S3_PERMISSIONS = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'] as const;

function publicBucket(
  name: string,
  req: Json,
): { what: string; evidence: Record<string, string> } | undefined {
  const bucket = shown('bucket', field(req, 'bucketName'));
  if (name === 'PutBucketPolicy') {
    const open = publicStatements(field(req, 'bucketPolicy'));
    if (open.length === 0) return undefined;
    return {
      what: `bucket ${bucket} policy allows anyone`,
      evidence: { publicStatement: excerpt(open[0]) },
    };
  }
  if (name === 'PutBucketAcl') {
    const acl = field(field(req, 'AccessControlPolicy'), 'AccessControlList');
    const grants = list(field(acl, 'Grant')).filter((g) =>
      PUBLIC_GROUPS.test(str(field(field(g, 'Grantee'), 'URI')) ?? ''),
    );
    const headers = Object.entries(isObj(req) ? req : {})
      .filter(([k, v]) => k.startsWith('x-amz-grant-') && PUBLIC_GROUPS.test(values(v).map(String).join(' ')))
      // Counted whatever its spelling; its name is shown only when it reads as a header name.
      .map(([k]) => (/^x-amz-grant-[A-Za-z-]{1,32}$/.test(k) ? k : 'x-amz-grant-(unreadable)'));
    const canned = values(field(req, 'x-amz-acl')).find(
      (v) => v === 'public-read' || v === 'public-read-write' || v === 'authenticated-read',
    );
    if (grants.length === 0 && headers.length === 0 && canned === undefined) return undefined;
    const granted = grants.map(
      (g) =>
        `${S3_PERMISSIONS.find((p) => p === field(g, 'Permission')) ?? '?'} to ${PUBLIC_GROUPS.exec(str(field(field(g, 'Grantee'), 'URI')) ?? '')?.[1]}`,
    );
    return {
      what: `bucket ${bucket} ACL grants public access`,
      evidence: {
        publicGrant: truncated(
          [...granted, ...headers, ...(canned ? [`x-amz-acl ${String(canned)}`] : [])].join(', '),
          1000,
        ),
      },
    };
  }
  if (name === 'DeleteBucketPublicAccessBlock') {
    return { what: `bucket ${bucket} public access block deleted`, evidence: {} };
  }
  if (name === 'PutBucketPublicAccessBlock') {
    // Unreadable is not off: only a flag the request sets to false turns the block off; a missing or
    // unreadable one is unknown (the wider s3-bucket-policy-change detection records the call).
    const { off, unknown } = publicAccessBlockFlags(req);
    if (off.length === 0) return undefined;
    return {
      what: `bucket ${bucket} public access block turned off`,
      evidence: {
        turnedOff: off.join(', '),
        ...(unknown.length > 0 ? { unreadable: unknown.join(', ') } : {}),
      },
    };
  }
  return undefined;
}

const PUBLIC_ACCESS_BLOCK_FLAGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;

/** The four settings of a PutBucketPublicAccessBlock request: set false, or not readable as true or false. */
export function publicAccessBlockFlags(req: Json): { off: string[]; unknown: string[] } {
  const config = field(req, 'PublicAccessBlockConfiguration');
  const read = (k: string) => {
    const v = field(config, k);
    if (v === false || v === 'false') return 'off';
    if (v === true || v === 'true') return 'on';
    return 'unknown';
  };
  return {
    off: PUBLIC_ACCESS_BLOCK_FLAGS.filter((k) => read(k) === 'off'),
    unknown: PUBLIC_ACCESS_BLOCK_FLAGS.filter((k) => read(k) === 'unknown'),
  };
}

export const s3BucketPublic = detection({
  name: 's3-bucket-public',
  cis: '4.8',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  remediations: ['restore-public-access-block'],
  describes:
    'bucket policy with a public principal and no condition, ACL grant to AllUsers/AuthenticatedUsers, public access block deleted or turned off',
  watches: {
    calls: ['PutBucketPolicy', 'PutBucketAcl', 'DeleteBucketPublicAccessBlock', 'PutBucketPublicAccessBlock'],
  },
  match: (e) => {
    if (!from('s3', e)) return undefined;
    const req = e.detail.requestParameters;
    const found = publicBucket(e.detail.eventName, req);
    if (!found) return undefined;
    const bucket = valid('bucket', field(req, 'bucketName'));
    return {
      ...found,
      ...(bucket
        ? { resource: { type: 's3 bucket', id: bucket, arn: `arn:${partitionOf(e.region)}:s3:::${bucket}` } }
        : {}),
      ...(bucket ? { remediation: { kind: 'restore-public-access-block' as const, bucket } } : {}),
    };
  },
});

/** What each call does to the key; a Map, so a crafted call name finds nothing on the prototype. */
const KEY_LOSS = new Map([
  ['DisableKey', 'disabled'],
  ['ScheduleKeyDeletion', 'scheduled for deletion'],
  ['DeleteImportedKeyMaterial', 'imported key material deleted'],
]);

export const kmsKeyDisabled = detection({
  name: 'kms-key-disabled',
  cis: '4.7',
  severity: 'high',
  action: 'page',
  describes:
    'a KMS key disabled or scheduled for deletion, or its imported key material deleted (what it encrypted cannot be read until the same material is imported again)',
  watches: { calls: ['DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial'] },
  match: (e) => {
    if (!from('kms', e)) return undefined;
    const n = e.detail.eventName;
    const done = KEY_LOSS.get(n);
    if (done === undefined) return undefined;
    const id = shown('kmsKey', field(e.detail.requestParameters, 'keyId'));
    const days = port(field(e.detail.requestParameters, 'pendingWindowInDays'));
    return {
      what: `KMS key ${id} ${done}`,
      resource: { type: 'kms key', id },
      evidence: days !== undefined ? { pendingWindowInDays: String(days) } : {},
    };
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const storagePaged = [s3BucketPublic, kmsKeyDisabled] as const;
