import type { IngressPermission } from '#shared/domain/intent.ts';
import { partitionOf } from '#shared/domain/partition.ts';
import type { ResourceRef } from '#shared/domain/signal.ts';
import { truncated } from '#shared/domain/text.ts';
import type { CloudTrailEvent } from './schema.ts';
import type { DetectionName } from './settings.ts';

/**
 * Pure: which detections a CloudTrail record matches, and what in it is dangerous. Request parameters
 * are untrusted JSON: every value taken from them is checked against its AWS format before it reaches
 * a page line or a remediation parameter; anything else is shown as unreadable and never acted on.
 */

/** What undoes the change, from validated fields of the record only. */
export type RemediationTarget =
  | {
      kind: 'revoke-world-ingress';
      groupId: string;
      /** Exactly the world-open ranges the call added, nothing else of the group. */
      permissions: IngressPermission[];
    }
  | { kind: 'restore-public-access-block'; bucket: string }
  | { kind: 'start-logging'; trail: string };

export interface Finding {
  detection: DetectionName;
  /** One line: what was done, to what. */
  what: string;
  resource?: ResourceRef;
  /** The dangerous part of the request (CIDR and ports, the public statement, the policy ARN). */
  evidence: Record<string, string>;
  remediation?: RemediationTarget;
}

type Json = unknown;
type Obj = Record<string, Json>;

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (v: Json, key: string): Json => (isObj(v) ? v[key] : undefined);
const str = (v: Json): string | undefined => (typeof v === 'string' ? v : undefined);
/** EC2 records wrap lists as `{ items: [...] }`; other services use plain arrays or one object. */
function list(v: Json): Json[] {
  if (Array.isArray(v)) return v;
  const items = field(v, 'items');
  if (Array.isArray(items)) return items;
  return isObj(v) && Object.keys(v).length > 0 && items === undefined ? [v] : [];
}

export const FORMATS = {
  securityGroupId: /^sg-[0-9a-f]{8,17}$/,
  securityGroupRuleId: /^sgr-[0-9a-f]{8,17}$/,
  ipv4Cidr: /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/,
  ipv6Cidr: /^[0-9A-Fa-f:.]{2,45}\/(12[0-8]|1[01]\d|[1-9]?\d)$/,
  protocol: /^(tcp|udp|icmp|icmpv6|all|-1|\d{1,3})$/i,
  bucket: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  trail:
    /^([A-Za-z0-9][A-Za-z0-9._-]{2,127}|arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9][A-Za-z0-9._-]{2,127})$/,
  iamPolicyArn: /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]{1,512}$/,
  iamName: /^[\w+=,.@-]{1,128}$/,
  kmsKey: /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/)?[0-9a-fA-F-]{36}$|^mrk-[0-9a-f]{32}$/,
} as const;

const valid = (format: keyof typeof FORMATS, v: Json): string | undefined => {
  const s = str(v);
  return s !== undefined && FORMATS[format].test(s) ? s : undefined;
};
const port = (v: Json): number | undefined => {
  const n = typeof v === 'string' && /^-?\d{1,5}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= -1 && n <= 65_535 ? n : undefined;
};
/** A value for a page line: its format checked, else marked, so a crafted string shows as nothing worse. */
const shown = (format: keyof typeof FORMATS, v: Json) => valid(format, v) ?? '(unreadable)';

const IPV4_PRIVATE: [number, number][] = [
  [0x0a000000, 8], // 10.0.0.0/8
  [0xac100000, 12], // 172.16.0.0/12
  [0xc0a80000, 16], // 192.168.0.0/16
  [0x64400000, 10], // 100.64.0.0/10 (carrier-grade NAT)
  [0x7f000000, 8], // 127.0.0.0/8
  [0xa9fe0000, 16], // 169.254.0.0/16
];

function ipv4Within(base: number, prefix: number, [net, bits]: [number, number]): boolean {
  if (prefix < bits) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (base & mask) >>> 0 === net;
}

/**
 * The internet in practice: a /0 in either family, or a public range so wide that splitting the world
 * into pieces cannot hide it (two /1 halves are the world too): IPv4 /8 or shorter outside the private
 * ranges, IPv6 /16 or shorter outside unique-local and link-local space. `0.0.0.0/16` and
 * `10.0.0.0/8` are not the world.
 */
export function isWorld(cidr: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (v4) {
    const [a, b, c, d, p] = v4.slice(1).map(Number) as [number, number, number, number, number];
    if (p > 32 || [a, b, c, d].some((o) => o > 255)) return false;
    if (p === 0) return true;
    if (p > 8) return false;
    const base = (((a << 24) | (b << 16) | (c << 8) | d) >>> 0) & ((0xffffffff << (32 - p)) >>> 0);
    return !IPV4_PRIVATE.some((range) => ipv4Within(base >>> 0, p, range));
  }
  const v6 = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr);
  if (v6) {
    const p = Number(v6[2]);
    if (p === 0) return true;
    if (p > 16) return false;
    const first = Number.parseInt((v6[1] as string).split(':')[0] || '0', 16);
    // fc00::/7 unique-local, fe80::/10 link-local
    return !((first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80);
  }
  return false;
}

const portsOf = (p: { ipProtocol: string; fromPort?: number; toPort?: number }) => {
  if (p.ipProtocol === '-1' || p.ipProtocol.toLowerCase() === 'all') return 'all traffic';
  if (p.fromPort === undefined) return `${p.ipProtocol} (all ports)`;
  return p.fromPort === p.toPort || p.toPort === undefined
    ? `${p.ipProtocol} ${p.fromPort}`
    : `${p.ipProtocol} ${p.fromPort}-${p.toPort}`;
};

/** The ranges an AuthorizeSecurityGroupIngress call added, in both request forms, formats checked. */
function ingressPermissions(req: Json): { permissions: IngressPermission[]; unreadable: number } {
  const permissions: IngressPermission[] = [];
  let unreadable = 0;
  const add = (base: Obj, cidr: { v4?: Json; v6?: Json }) => {
    const ipProtocol = valid('protocol', base.ipProtocol);
    const fromPort = port(base.fromPort);
    const toPort = port(base.toPort);
    const v4 = cidr.v4 === undefined ? undefined : valid('ipv4Cidr', cidr.v4);
    const v6 = cidr.v6 === undefined ? undefined : valid('ipv6Cidr', cidr.v6);
    if (!ipProtocol || (v4 === undefined && v6 === undefined)) {
      unreadable++;
      return;
    }
    permissions.push({
      ipProtocol,
      ...(fromPort !== undefined ? { fromPort } : {}),
      ...(toPort !== undefined ? { toPort } : {}),
      ...(v4 ? { cidrIpv4: v4 } : {}),
      ...(v6 ? { cidrIpv6: v6 } : {}),
    });
  };
  // The flat form: one range in cidrIp beside the protocol and ports.
  if (isObj(req) && req.cidrIp !== undefined) add(req, { v4: req.cidrIp });
  for (const perm of list(field(req, 'ipPermissions'))) {
    if (!isObj(perm)) continue;
    for (const r of list(perm.ipRanges)) add(perm, { v4: field(r, 'cidrIp') });
    for (const r of list(perm.ipv6Ranges)) add(perm, { v6: field(r, 'cidrIpv6') });
  }
  return { permissions, unreadable };
}

/** ModifySecurityGroupRules: the rules set to a world range (the request names rules by id). */
function modifiedWorldRules(req: Json): { ruleId: string; text: string }[] {
  const request = field(req, 'ModifySecurityGroupRulesRequest') ?? req;
  const out: { ruleId: string; text: string }[] = [];
  for (const entry of list(field(request, 'SecurityGroupRule'))) {
    const rule = field(entry, 'SecurityGroupRule');
    if (!isObj(rule)) continue;
    const cidr = valid('ipv4Cidr', rule.CidrIpv4) ?? valid('ipv6Cidr', rule.CidrIpv6);
    if (!cidr || !isWorld(cidr)) continue;
    const ipProtocol = valid('protocol', rule.IpProtocol) ?? '(unreadable)';
    const fromPort = port(rule.FromPort);
    const toPort = port(rule.ToPort);
    out.push({
      ruleId: shown('securityGroupRuleId', field(entry, 'SecurityGroupRuleId')),
      text: `${portsOf({ ipProtocol, ...(fromPort !== undefined ? { fromPort } : {}), ...(toPort !== undefined ? { toPort } : {}) })} from ${cidr}`,
    });
  }
  return out;
}

const PUBLIC_GROUPS = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
/** S3's ACL permissions: https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions */
const S3_PERMISSIONS = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'] as const;

/** A policy document as CloudTrail logs it: an object, or a JSON (sometimes URL-encoded) string. */
function policyDocument(v: Json): Obj | undefined {
  if (isObj(v)) return v;
  const s = str(v);
  if (s === undefined) return undefined;
  for (const text of [s, safeDecode(s)]) {
    try {
      const parsed: Json = JSON.parse(text ?? '');
      if (isObj(parsed)) return parsed;
    } catch {
      // not JSON in this form; try the next
    }
  }
  return undefined;
}
function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
const statements = (doc: Obj | undefined): Obj[] => list(doc?.Statement).filter(isObj);
const values = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);
const isPublicPrincipal = (p: Json) =>
  p === '*' || values(field(p, 'AWS')).includes('*') || values(field(p, 'CanonicalUser')).includes('*');
/** JSON of a statement for a page line: escaped, so nothing in it can break the page. */
const excerpt = (v: Json) => {
  return truncated(JSON.stringify(v) ?? '', 1000);
};

/** Condition keys that narrow who may act (to an account, organization, ARN, VPC or endpoint). */
const WHO_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalarn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:userid',
  's3:dataaccesspointaccount',
  's3:dataaccesspointarn',
]);
/** Operators whose match narrows the request; negated and ...IfExists operators let others through. */
const NARROWING = /^(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike|IpAddress)$/;

/**
 * Whether a statement's Condition keeps the public out, as S3's own public-policy check reads it: a
 * narrowing operator on a who-key with a value that is not a wildcard, or a source IP range that is
 * not the world. Any other condition (secure transport, a /0 source) leaves the statement public.
 */
function restrictsWho(condition: Json): boolean {
  if (!isObj(condition)) return false;
  for (const [operator, keys] of Object.entries(condition)) {
    if (!NARROWING.test(operator) || !isObj(keys)) continue;
    for (const [key, value] of Object.entries(keys)) {
      const vs = values(value as Json).map((v) => String(v));
      if (vs.length === 0) continue;
      const k = key.toLowerCase();
      if (k === 'aws:sourceip' && operator === 'IpAddress' && vs.every((v) => !isWorld(v))) return true;
      if (WHO_KEYS.has(k) && vs.every((v) => v !== '*' && v !== '')) return true;
    }
  }
  return false;
}

function publicBucket(
  name: string,
  req: Json,
): { what: string; evidence: Record<string, string> } | undefined {
  const bucket = shown('bucket', field(req, 'bucketName'));
  if (name === 'PutBucketPolicy') {
    const open = statements(policyDocument(field(req, 'bucketPolicy'))).filter(
      (s) => s.Effect === 'Allow' && isPublicPrincipal(s.Principal) && !restrictsWho(s.Condition),
    );
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
function publicAccessBlockFlags(req: Json): { off: string[]; unknown: string[] } {
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

/** Whether event selectors still record write management events. */
function recordsWriteManagementEvents(req: Json): boolean {
  const basic = list(field(req, 'eventSelectors'));
  const advanced = list(field(req, 'advancedEventSelectors'));
  if (basic.length > 0) {
    return basic.some(
      (s) =>
        field(s, 'includeManagementEvents') !== false && (field(s, 'readWriteType') ?? 'All') !== 'ReadOnly',
    );
  }
  if (advanced.length > 0) {
    return advanced.some((s) => {
      const fields = list(field(s, 'fieldSelectors'));
      const management = fields.some(
        (f) => field(f, 'field') === 'eventCategory' && values(field(f, 'equals')).includes('Management'),
      );
      const readOnlyOnly = fields.some(
        (f) => field(f, 'field') === 'readOnly' && values(field(f, 'equals')).map(String).includes('true'),
      );
      return management && !readOnlyOnly;
    });
  }
  return true;
}

const ADMIN_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/;

function allowsEverything(doc: Obj | undefined): Obj | undefined {
  return statements(doc).find(
    (s) => s.Effect === 'Allow' && values(s.Action).includes('*') && values(s.Resource).includes('*'),
  );
}

const names = (...n: string[]) => new Set(n);
const EVENTS = {
  iamPolicy: names(
    'DeleteGroupPolicy',
    'DeleteRolePolicy',
    'DeleteUserPolicy',
    'PutGroupPolicy',
    'PutRolePolicy',
    'PutUserPolicy',
    'CreatePolicy',
    'DeletePolicy',
    'CreatePolicyVersion',
    'DeletePolicyVersion',
    'SetDefaultPolicyVersion',
    'AttachRolePolicy',
    'DetachRolePolicy',
    'AttachUserPolicy',
    'DetachUserPolicy',
    'AttachGroupPolicy',
    'DetachGroupPolicy',
  ),
  cloudTrail: names(
    'CreateTrail',
    'UpdateTrail',
    'DeleteTrail',
    'StartLogging',
    'StopLogging',
    'PutEventSelectors',
  ),
  s3: names(
    'PutBucketAcl',
    'PutBucketPolicy',
    'PutBucketCors',
    'PutBucketLifecycle',
    'PutBucketReplication',
    'DeleteBucketPolicy',
    'DeleteBucketCors',
    'DeleteBucketLifecycle',
    'DeleteBucketReplication',
    'PutBucketPublicAccessBlock',
    'DeleteBucketPublicAccessBlock',
  ),
  config: names(
    'StopConfigurationRecorder',
    'DeleteDeliveryChannel',
    'PutDeliveryChannel',
    'PutConfigurationRecorder',
    'DeleteConfigurationRecorder',
  ),
  securityGroup: names(
    'AuthorizeSecurityGroupIngress',
    'AuthorizeSecurityGroupEgress',
    'RevokeSecurityGroupIngress',
    'RevokeSecurityGroupEgress',
    'CreateSecurityGroup',
    'DeleteSecurityGroup',
    'ModifySecurityGroupRules',
  ),
  nacl: names(
    'CreateNetworkAcl',
    'CreateNetworkAclEntry',
    'DeleteNetworkAcl',
    'DeleteNetworkAclEntry',
    'ReplaceNetworkAclEntry',
    'ReplaceNetworkAclAssociation',
  ),
  gateway: names(
    'CreateCustomerGateway',
    'DeleteCustomerGateway',
    'AttachInternetGateway',
    'CreateInternetGateway',
    'DeleteInternetGateway',
    'DetachInternetGateway',
  ),
  route: names(
    'CreateRoute',
    'CreateRouteTable',
    'ReplaceRoute',
    'ReplaceRouteTableAssociation',
    'DeleteRouteTable',
    'DeleteRoute',
    'DisassociateRouteTable',
  ),
  vpc: names(
    'CreateVpc',
    'DeleteVpc',
    'ModifyVpcAttribute',
    'AcceptVpcPeeringConnection',
    'CreateVpcPeeringConnection',
    'DeleteVpcPeeringConnection',
    'RejectVpcPeeringConnection',
    'AttachClassicLinkVpc',
    'DetachClassicLinkVpc',
    'DisableVpcClassicLink',
    'EnableVpcClassicLink',
  ),
  organizations: names(
    'AcceptHandshake',
    'AttachPolicy',
    'CreateAccount',
    'CreateOrganizationalUnit',
    'CreatePolicy',
    'DeclineHandshake',
    'DeleteOrganization',
    'DeleteOrganizationalUnit',
    'DeletePolicy',
    'DetachPolicy',
    'DisablePolicyType',
    'EnablePolicyType',
    'InviteAccountToOrganization',
    'LeaveOrganization',
    'MoveAccount',
    'RemoveAccountFromOrganization',
    'UpdatePolicy',
    'UpdateOrganizationalUnit',
  ),
};
/** Every API call a detection reads when it succeeds: the event pattern lists the same names. */
export const WATCHED_CALLS = [
  ...new Set([
    ...Object.values(EVENTS).flatMap((s) => [...s]),
    'ConsoleLogin',
    'DisableKey',
    'ScheduleKeyDeletion',
    'DeleteDetector',
    'UpdateDetector',
    'DeleteFlowLogs',
  ]),
].sort();

/** The refusals CIS 4.1 counts. */
export const UNAUTHORIZED_ERROR = /^(AccessDenied|Client\.UnauthorizedOperation|UnauthorizedOperation)/;

/** What a detector finds; evidence entries it could not read are left undefined and dropped. */
type Found = Omit<Finding, 'detection' | 'evidence'> & { evidence: Record<string, string | undefined> };
type Detector = (e: CloudTrailEvent) => Found | undefined;

const from = (source: string, e: CloudTrailEvent) => e.detail.eventSource === `${source}.amazonaws.com`;
const isRoot = (e: CloudTrailEvent) => e.detail.userIdentity.type === 'Root';
const consoleResult = (e: CloudTrailEvent) => str(field(e.detail.responseElements, 'ConsoleLogin'));
const SAML_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:saml-provider\/[\w.-]{1,128}$/;
/** An IAM Identity Center session: its permission set's role, which IAM reserves (AWSReservedSSO_...). */
const IDENTITY_CENTER_SESSION =
  /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/AWSReservedSSO_[\w+=,.@-]{1,100}\//;
const IDENTITY_CENTER_ROLE =
  /^arn:aws[a-z-]*:iam::\d{12}:role\/aws-reserved\/sso\.amazonaws\.com\/([\w-]+\/)?AWSReservedSSO_[\w+=,.@-]{1,100}$/;

/** A console sign-in through a SAML provider or IAM Identity Center, read from its AWS-formatted fields only. */
function isFederatedSignIn(e: CloudTrailEvent): boolean {
  const id = e.detail.userIdentity;
  const saml = str(field(e.detail.additionalEventData, 'SamlProviderArn'));
  return (
    (saml !== undefined && SAML_PROVIDER_ARN.test(saml)) ||
    IDENTITY_CENTER_SESSION.test(id.arn ?? '') ||
    IDENTITY_CENTER_ROLE.test(id.sessionContext?.sessionIssuer?.arn ?? '')
  );
}

const changed = (what: string, id?: string): Found => ({
  what: `${what}${id ? ` ${id}` : ''}`,
  evidence: {},
});
/** A detector that records any call of a set from one service (the CIS change controls). */
const callIn =
  (source: string, calls: ReadonlySet<string>): Detector =>
  (e) =>
    from(source, e) && calls.has(e.detail.eventName) ? changed(e.detail.eventName) : undefined;

/** The detectors, keyed like the catalogue; each sees only calls that succeeded (see `detect`). */
const DETECTORS: Record<DetectionName, Detector> = {
  'security-group-open-to-world': (e) => {
    const req = e.detail.requestParameters;
    if (!from('ec2', e)) return undefined;
    if (e.detail.eventName === 'AuthorizeSecurityGroupIngress') {
      const { permissions } = ingressPermissions(req);
      const world = permissions.filter((p) => isWorld(p.cidrIpv4 ?? p.cidrIpv6 ?? ''));
      if (world.length === 0) return undefined;
      const groupId = valid('securityGroupId', field(req, 'groupId'));
      const opened = world.map((p) => `${portsOf(p)} from ${p.cidrIpv4 ?? p.cidrIpv6}`).join('; ');
      return {
        what: `${groupId ?? 'a security group named without its id'} opened to the world: ${opened}`,
        ...(groupId ? { resource: { type: 'security group', id: groupId } } : {}),
        evidence: { opened },
        // A group named without its id (default VPC, by name) is paged but not touched: nothing guessed.
        ...(groupId
          ? { remediation: { kind: 'revoke-world-ingress' as const, groupId, permissions: world } }
          : {}),
      };
    }
    if (e.detail.eventName === 'ModifySecurityGroupRules') {
      const request = field(e.detail.requestParameters, 'ModifySecurityGroupRulesRequest') ?? req;
      const rules = modifiedWorldRules(req);
      if (rules.length === 0) return undefined;
      const groupId = shown('securityGroupId', field(request, 'GroupId'));
      const opened = rules.map((r) => `${r.ruleId}: ${r.text}`).join('; ');
      return {
        what: `${groupId} rules changed to the world: ${opened}`,
        resource: { type: 'security group', id: groupId },
        evidence: { opened },
      };
    }
    return undefined;
  },
  's3-bucket-public': (e) => {
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
  'cloudtrail-tampering': (e) => {
    if (!from('cloudtrail', e)) return undefined;
    const req = e.detail.requestParameters;
    const trail = valid('trail', field(req, 'name') ?? field(req, 'trailName'));
    const resource = { type: 'cloudtrail trail', id: trail ?? '(unreadable)' };
    switch (e.detail.eventName) {
      case 'StopLogging':
        return {
          what: `trail ${resource.id} stopped logging`,
          resource,
          evidence: {},
          ...(trail ? { remediation: { kind: 'start-logging' as const, trail } } : {}),
        };
      case 'DeleteTrail':
        return { what: `trail ${resource.id} deleted`, resource, evidence: {} };
      case 'PutEventSelectors':
        return recordsWriteManagementEvents(req)
          ? undefined
          : {
              what: `trail ${resource.id} no longer records write management events`,
              resource,
              evidence: {
                selectors: excerpt(field(req, 'eventSelectors') ?? field(req, 'advancedEventSelectors')),
              },
            };
      default:
        return undefined;
    }
  },
  'admin-policy-attached': (e) => {
    if (!from('iam', e)) return undefined;
    const req = e.detail.requestParameters;
    const m = /^(Attach|Put)(User|Role|Group)Policy$/.exec(e.detail.eventName);
    if (!m) return undefined;
    const kind = (m[2] ?? '').toLowerCase();
    const target = shown('iamName', field(req, `${kind}Name`));
    const resource = { type: `iam ${kind}`, id: target };
    if (m[1] === 'Attach') {
      const policyArn = valid('iamPolicyArn', field(req, 'policyArn'));
      if (!policyArn || !ADMIN_POLICY.test(policyArn)) return undefined;
      return { what: `AdministratorAccess attached to ${kind} ${target}`, resource, evidence: { policyArn } };
    }
    const statement = allowsEverything(policyDocument(field(req, 'policyDocument')));
    if (!statement) return undefined;
    return {
      what: `inline policy ${shown('iamName', field(req, 'policyName'))} on ${kind} ${target} allows * on *`,
      resource,
      evidence: { statement: excerpt(statement) },
    };
  },
  'root-access-key-created': (e) => {
    if (!from('iam', e) || e.detail.eventName !== 'CreateAccessKey' || !isRoot(e)) return undefined;
    // Root naming a user creates that user's key; without one, the key is root's own.
    if (field(e.detail.requestParameters, 'userName') !== undefined) return undefined;
    const keyId = str(field(field(e.detail.responseElements, 'accessKey'), 'accessKeyId'));
    return {
      what: 'an access key was created for the root user',
      resource: { type: 'root user', id: e.account },
      evidence: keyId && /^AKIA[A-Z0-9]{12,124}$/.test(keyId) ? { newAccessKeyId: keyId } : {},
    };
  },
  'root-console-sign-in': (e) =>
    e.detail.eventName === 'ConsoleLogin' && isRoot(e) && consoleResult(e) === 'Success'
      ? {
          what: 'the root user signed in to the console',
          resource: { type: 'root user', id: e.account },
          evidence: {},
        }
      : undefined,
  'console-sign-in-without-mfa': (e) => {
    if (e.detail.eventName !== 'ConsoleLogin' || consoleResult(e) !== 'Success') return undefined;
    // Only IAM users sign in with their own MFA; SAML and IAM Identity Center sessions are federated
    // (their MFA is the identity provider's), whatever type the record gives the identity.
    if (e.detail.userIdentity.type !== 'IAMUser' || isFederatedSignIn(e)) return undefined;
    const mfa = str(field(e.detail.additionalEventData, 'MFAUsed'));
    if (mfa?.toLowerCase() === 'yes') return undefined;
    const user = shown('iamName', e.detail.userIdentity.userName);
    return {
      what: `IAM user ${user} signed in to the console without MFA`,
      resource: { type: 'iam user', id: user },
      // A word such as No or false; anything else is shown as unreadable, never raw.
      evidence: {
        MFAUsed: mfa === undefined ? '(absent)' : /^[A-Za-z]{1,16}$/.test(mfa) ? mfa : '(unreadable)',
      },
    };
  },
  'guardduty-disabled': (e) => {
    if (!from('guardduty', e)) return undefined;
    const detector = str(field(e.detail.requestParameters, 'detectorId'));
    const id = detector && /^[0-9a-f]{32}$/.test(detector) ? detector : '(unreadable)';
    if (e.detail.eventName === 'DeleteDetector')
      return {
        what: `GuardDuty detector ${id} deleted`,
        resource: { type: 'guardduty detector', id },
        evidence: {},
      };
    if (e.detail.eventName === 'UpdateDetector' && field(e.detail.requestParameters, 'enable') === false)
      return {
        what: `GuardDuty detector ${id} disabled`,
        resource: { type: 'guardduty detector', id },
        evidence: {},
      };
    return undefined;
  },
  'vpc-flow-logs-deleted': (e) => {
    if (!from('ec2', e) || e.detail.eventName !== 'DeleteFlowLogs') return undefined;
    const ids = list(
      field(
        field(e.detail.requestParameters, 'DeleteFlowLogsRequest') ?? e.detail.requestParameters,
        'FlowLogId',
      ),
    )
      .map((v) => str(field(v, 'content') ?? v))
      .filter((v): v is string => v !== undefined && /^fl-[0-9a-f]{8,17}$/.test(v));
    return { what: `VPC flow logs deleted${ids.length > 0 ? `: ${ids.join(', ')}` : ''}`, evidence: {} };
  },
  'config-recorder-stopped': (e) => {
    if (!from('config', e)) return undefined;
    const n = e.detail.eventName;
    if (n !== 'StopConfigurationRecorder' && n !== 'DeleteConfigurationRecorder') return undefined;
    const name = str(field(e.detail.requestParameters, 'configurationRecorderName'));
    const id = name && /^[\w.-]{1,256}$/.test(name) ? name : '(unreadable)';
    return {
      what: `AWS Config recorder ${id} ${n === 'StopConfigurationRecorder' ? 'stopped' : 'deleted'}`,
      resource: { type: 'config recorder', id },
      evidence: {},
    };
  },
  'kms-key-disabled': (e) => {
    if (!from('kms', e)) return undefined;
    const n = e.detail.eventName;
    if (n !== 'DisableKey' && n !== 'ScheduleKeyDeletion') return undefined;
    const id = shown('kmsKey', field(e.detail.requestParameters, 'keyId'));
    const days = port(field(e.detail.requestParameters, 'pendingWindowInDays'));
    return {
      what: n === 'DisableKey' ? `KMS key ${id} disabled` : `KMS key ${id} scheduled for deletion`,
      resource: { type: 'kms key', id },
      evidence: days !== undefined ? { pendingWindowInDays: String(days) } : {},
    };
  },
  'root-activity': (e) =>
    isRoot(e) && e.detail.userIdentity.invokedBy === undefined && e.detail.eventType !== 'AwsServiceEvent'
      ? changed(`the root user called ${e.detail.eventName}`)
      : undefined,
  'console-sign-in-failure': (e) =>
    e.detail.eventName === 'ConsoleLogin' && consoleResult(e) === 'Failure'
      ? changed('a console sign-in failed')
      : undefined,
  // Only reached by refused calls: see detect().
  'unauthorized-api-call': () => undefined,
  'iam-policy-change': callIn('iam', EVENTS.iamPolicy),
  'cloudtrail-change': callIn('cloudtrail', EVENTS.cloudTrail),
  's3-bucket-policy-change': (e) => {
    if (!from('s3', e) || !EVENTS.s3.has(e.detail.eventName)) return undefined;
    const found = changed(
      e.detail.eventName,
      `on ${shown('bucket', field(e.detail.requestParameters, 'bucketName'))}`,
    );
    if (e.detail.eventName !== 'PutBucketPublicAccessBlock') return found;
    const { unknown } = publicAccessBlockFlags(e.detail.requestParameters);
    if (unknown.length === 0) return found;
    // Recorded, not paged: say what could not be read rather than guess it was off.
    return {
      what: `${found.what} (settings that could not be read: ${unknown.join(', ')})`,
      evidence: { unreadable: unknown.join(', ') },
    };
  },
  'config-change': callIn('config', EVENTS.config),
  'security-group-change': (e) =>
    from('ec2', e) && EVENTS.securityGroup.has(e.detail.eventName)
      ? changed(
          e.detail.eventName,
          `on ${shown('securityGroupId', field(e.detail.requestParameters, 'groupId') ?? field(field(e.detail.requestParameters, 'ModifySecurityGroupRulesRequest'), 'GroupId'))}`,
        )
      : undefined,
  'nacl-change': callIn('ec2', EVENTS.nacl),
  'network-gateway-change': callIn('ec2', EVENTS.gateway),
  'route-table-change': callIn('ec2', EVENTS.route),
  'vpc-change': callIn('ec2', EVENTS.vpc),
  'organizations-change': callIn('organizations', EVENTS.organizations),
};

/**
 * Every detection the record matches, in catalogue order. A failed call matches nothing but the
 * unauthorized-call detection, and that only for refusals: a call that did not happen changed nothing.
 */
export function detect(e: CloudTrailEvent, order: readonly DetectionName[]): Finding[] {
  if (e.detail.errorCode !== undefined) {
    if (!UNAUTHORIZED_ERROR.test(e.detail.errorCode)) return [];
    return [
      {
        detection: 'unauthorized-api-call',
        what: `${e.detail.eventName} refused (${truncated(e.detail.errorCode, 64)})`,
        evidence: { errorCode: truncated(e.detail.errorCode, 256) },
      },
    ];
  }
  return order.flatMap((name) => {
    const found = DETECTORS[name](e);
    if (!found) return [];
    const evidence = Object.fromEntries(
      Object.entries(found.evidence).filter((kv): kv is [string, string] => kv[1] !== undefined),
    );
    return [{ detection: name, ...found, evidence }];
  });
}
