import { z } from 'zod';
import type { Intent } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';

/**
 * Whether a recorded CloudTrail remediation may still act here, judged by the rules its plan used: the
 * record's account and region are approveAction's own (a remediation never reaches across), and every
 * id it names is in its AWS format. The pending record is data in a table, so it is read as untrusted:
 * a value changed after it was written is refused before any AWS call. The formats are those
 * onCloudTrail's detections check a record's values with (functions/onCloudTrail/detections/formats.ts).
 */

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const port = z.number().int().min(-1).max(65_535);
const owned = {
  detection: z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a detection name'),
  reason: z.string().max(2000),
};

const REMEDIATION_INTENTS = {
  'ec2.revoke-ingress': z.object({
    groupId: z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id (sg-…)'),
    permissions: z
      .array(
        z.object({
          ipProtocol: z.string().regex(/^(tcp|udp|icmp|icmpv6|all|-1|\d{1,3})$/i, 'must be an IP protocol'),
          fromPort: port.optional(),
          toPort: port.optional(),
          cidrIpv4: z
            .string()
            .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/)
            .optional(),
          cidrIpv6: z
            .string()
            .regex(/^[0-9A-Fa-f:.]{2,45}\/(12[0-8]|1[01]\d|[1-9]?\d)$/)
            .optional(),
        }),
      )
      .min(1)
      .max(100),
    ...owned,
  }),
  's3.restore-public-access-block': z.object({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name'),
    expectedOwner: accountId,
    ...owned,
  }),
  'cloudtrail.start-logging': z.object({
    trail: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/, 'must be a trail name'),
    ...owned,
  }),
  'ec2.revoke-share': z.discriminatedUnion('resource', [
    z.object({
      resource: z.literal('snapshot'),
      id: z.string().regex(/^snap-[0-9a-f]{8,17}$/, 'must be an EBS snapshot id (snap-…)'),
      everyone: z.boolean(),
      accounts: z.array(accountId).max(1000),
      ...owned,
    }),
    z.object({
      resource: z.literal('image'),
      id: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id (ami-…)'),
      everyone: z.boolean(),
      accounts: z.array(accountId).max(1000),
      ...owned,
    }),
  ]),
  'rds.revoke-snapshot-share': z.object({
    resource: z.enum(['db-snapshot', 'db-cluster-snapshot']),
    id: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,254}$/, 'must be a snapshot identifier (not an ARN)'),
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
