import { z } from 'zod';
import type { Intent } from '#shared/domain/intent.ts';
import { RESOURCE_ID_FORMATS as IDS } from '#shared/domain/resourceIds.ts';
import type { Signal } from '#shared/domain/signal.ts';

/**
 * Whether a recorded CloudTrail remediation may still act here, judged by the rules its plan used: the
 * record's account and region are approveAction's own (a remediation never reaches across), and every
 * id it names is in its AWS format. The pending record is data in a table, so it is read as untrusted:
 * a value changed after it was written is refused before any AWS call. The formats are those
 * onCloudTrail's detections check a record's values with (shared/domain/resourceIds.ts).
 */

const accountId = z.string().regex(IDS.accountId, 'must be a 12-digit AWS account id');
const port = z.number().int().min(-1).max(65_535);
const owned = {
  detection: z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a detection name'),
  reason: z.string().max(2000),
};

const REMEDIATION_INTENTS = {
  'ec2.revoke-ingress': z.object({
    groupId: z.string().regex(IDS.securityGroupId, 'must be a security group id (sg-…)'),
    permissions: z
      .array(
        z.object({
          ipProtocol: z.string().regex(IDS.protocol, 'must be an IP protocol'),
          fromPort: port.optional(),
          toPort: port.optional(),
          cidrIpv4: z.string().regex(IDS.ipv4Cidr).optional(),
          cidrIpv6: z.string().regex(IDS.ipv6Cidr).optional(),
        }),
      )
      .min(1)
      .max(100),
    ...owned,
  }),
  's3.restore-public-access-block': z.object({
    bucket: z.string().regex(IDS.bucket, 'must be a bucket name'),
    expectedOwner: accountId,
    ...owned,
  }),
  'cloudtrail.start-logging': z.object({
    trail: z.string().regex(IDS.trailName, 'must be a trail name'),
    ...owned,
  }),
  'ec2.revoke-share': z.discriminatedUnion('resource', [
    z.object({
      resource: z.literal('snapshot'),
      id: z.string().regex(IDS.ebsSnapshotId, 'must be an EBS snapshot id (snap-…)'),
      everyone: z.boolean(),
      accounts: z.array(accountId).max(1000),
      ...owned,
    }),
    z.object({
      resource: z.literal('image'),
      id: z.string().regex(IDS.imageId, 'must be an AMI id (ami-…)'),
      everyone: z.boolean(),
      accounts: z.array(accountId).max(1000),
      ...owned,
    }),
  ]),
  'rds.revoke-snapshot-share': z.object({
    resource: z.enum(['db-snapshot', 'db-cluster-snapshot']),
    id: z.string().regex(IDS.rdsSnapshotIdentifier, 'must be a snapshot identifier (not an ARN)'),
    everyone: z.boolean(),
    accounts: z.array(accountId).max(1000),
    ...owned,
  }),
} as const;

export type RemediationIntentKind = keyof typeof REMEDIATION_INTENTS;

export const isRemediationKind = (kind: string): kind is RemediationIntentKind =>
  Object.hasOwn(REMEDIATION_INTENTS, kind);

/** Why the recorded remediation is out of scope here, naming the field; undefined when it is in scope. */
export function remediationScopeProblem(
  recorded: { intent: Intent; signal: Signal },
  here: { account: string; region: string },
): string | undefined {
  const { intent, signal } = recorded;
  if (signal.account !== here.account || signal.region !== here.region) {
    return `the remediation's record is from account ${signal.account} region ${signal.region}; approveAction runs in account ${here.account} region ${here.region} and acts only there`;
  }
  if (!isRemediationKind(intent.kind)) return `${intent.kind} is not a remediation`;
  const parsed = REMEDIATION_INTENTS[intent.kind].safeParse(intent);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    return `the recorded ${intent.kind} is not valid: ${issue?.path.join('.') || 'intent'}: ${issue?.message}`;
  }
  if (intent.kind === 's3.restore-public-access-block' && intent.expectedOwner !== here.account) {
    return `expectedOwner ${intent.expectedOwner} is not this account ${here.account}`;
  }
  return undefined;
}
