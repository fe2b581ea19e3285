import type { CloudTrailEvent } from './schema.ts';

/**
 * Service-linked roles: https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html.
 * Only the service named in the role's path can assume one, so a call made through one is the service
 * acting, not a person. The ARN is exactly `role/aws-service-role/<service principal>/AWSServiceRoleFor...`
 * (a role name has at most 64 characters); anything else - another path, a deeper one, a look-alike name
 * in a path anyone may use - is not one.
 */
const SERVICE_LINKED_ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/aws-service-role\/([a-z0-9][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)*\.amazonaws\.com(?:\.cn)?)\/(AWSServiceRoleFor[A-Za-z0-9+=,.@_-]{0,47})$/;

/** The AWS service that made the call, and its service-linked role. */
export interface ServiceLinkedRoleCall {
  /** The service principal in the role's path, e.g. `fms.amazonaws.com`. */
  service: string;
  /** The role's name, e.g. `AWSServiceRoleForFMS`. */
  role: string;
}

/**
 * The service behind a call made through its service-linked role in the record's own account, or
 * undefined. Strict, so a crafted record cannot claim one loosely: an assumed-role session whose issuer
 * is a role of the record's account at exactly that path, and whose other identity fields, where
 * present, name the same account and role.
 */
export function serviceLinkedRoleCall(e: CloudTrailEvent): ServiceLinkedRoleCall | undefined {
  const id = e.detail.userIdentity;
  if (id.type !== 'AssumedRole') return undefined;
  const issuer = id.sessionContext?.sessionIssuer;
  const parts = SERVICE_LINKED_ROLE_ARN.exec(issuer?.arn ?? '');
  if (!issuer || !parts) return undefined;
  const [, partition, account, service, role] = parts;
  if (!partition || !service || !role || account !== e.account) return undefined;
  const sameOrAbsent = (value: string | undefined, expected: string) =>
    value === undefined || value === expected;
  const sessionArnOk =
    id.arn === undefined || id.arn.startsWith(`arn:${partition}:sts::${account}:assumed-role/${role}/`);
  return sameOrAbsent(issuer.type, 'Role') &&
    sameOrAbsent(issuer.accountId, account) &&
    sameOrAbsent(issuer.userName, role) &&
    sameOrAbsent(id.accountId, account) &&
    sessionArnOk
    ? { service, role }
    : undefined;
}
