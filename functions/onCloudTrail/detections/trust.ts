import type { CloudTrailEvent } from '../schema.ts';
import { type DetectionContext, detection, from, isForeignAccount } from './declaration.ts';
import { shown, valid } from './formats.ts';
import {
  excerpt,
  field,
  isObj,
  type Json,
  type Obj,
  policyDocument,
  statements,
  str,
  values,
} from './json.ts';

/**
 * Trust: a key AWS flagged as leaked, and backdoors that let someone outside this account or
 * organization in (a role's trust policy, IAM Roles Anywhere, a Lambda permission or function URL).
 */

/** AWS attaches this policy (V2, V3, ...) to a user whose key it found exposed in public. */
const QUARANTINE_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/AWSCompromisedKeyQuarantine(V\d{1,3})?$/;

export const compromisedKeyQuarantined = detection({
  name: 'compromised-key-quarantined',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes: 'AWS attached an AWSCompromisedKeyQuarantine policy to a user: one of its access keys leaked',
  watches: { calls: ['AttachUserPolicy'] },
  match: (e) => {
    if (!from('iam', e) || e.detail.eventName !== 'AttachUserPolicy') return undefined;
    const req = e.detail.requestParameters;
    const policyArn = valid('iamPolicyArn', field(req, 'policyArn'));
    if (!policyArn || !QUARANTINE_POLICY.test(policyArn)) return undefined;
    const user = shown('iamName', field(req, 'userName'));
    return {
      // Short: the page's subject is cut at 100 characters; the policy is in the evidence.
      what: `IAM user ${user} quarantined by AWS: an access key leaked`,
      resource: { type: 'iam user', id: user },
      evidence: { policyArn },
    };
  },
});

const ACCOUNT = /^\d{12}$/;
/** The account an IAM principal ARN (or bare account id) names; `*` for a wildcard account. */
function principalAccount(v: string): string | undefined {
  if (v === '*' || ACCOUNT.test(v)) return v;
  const m = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}|\*):/.exec(v);
  return m?.[2];
}

/**
 * Operators under which a condition narrows who may act. Negated and ...IfExists ones do not, nor
 * ForAllValues:, which holds when the request has no such key at all.
 */
const NARROWING = /^(ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)$/;

/** Each narrowing condition's values by lower-cased key. */
function conditionValues(condition: Json): Map<string, string[]> {
  const found = new Map<string, string[]>();
  if (!isObj(condition)) return found;
  for (const [operator, keys] of Object.entries(condition)) {
    if (!NARROWING.test(operator) || !isObj(keys)) continue;
    for (const [key, value] of Object.entries(keys)) {
      const vs = values(value).filter((v): v is string => typeof v === 'string');
      if (vs.length > 0 && vs.length === values(value).length) found.set(key.toLowerCase(), vs);
    }
  }
  return found;
}

const isWildcard = (v: string) => /^[*?]*$/.test(v);

/**
 * Whether a statement's condition keeps the principal inside this account or organization: the stage's
 * organization by aws:PrincipalOrgID, or only own or trusted accounts by aws:PrincipalAccount, or
 * principal ARNs in them. Anything else (an external id, a source IP, MFA) still admits outsiders.
 */
function keepsOutsidersOut(condition: Json, e: CloudTrailEvent, context: DetectionContext): boolean {
  const c = conditionValues(condition);
  const org = c.get('aws:principalorgid');
  if (org && context.organizationId && org.every((v) => v === context.organizationId)) return true;
  const inside = (vs: string[] | undefined, read: (v: string) => string | undefined) =>
    vs?.every((v) => {
      const account = read(v);
      return account !== undefined && account !== '*' && !isForeignAccount(account, e, context);
    }) === true;
  return (
    inside(c.get('aws:principalaccount'), (v) => (ACCOUNT.test(v) ? v : undefined)) ||
    inside(c.get('aws:principalarn'), principalAccount)
  );
}

/** Web-identity providers whose audience alone admits any of their users: their subject must be narrowed. */
const SUBJECT_REQUIRED = new Set(['token.actions.githubusercontent.com']);

/** The provider a Federated principal names: a SAML or OIDC provider ARN's name, or a well-known host. */
function federatedProvider(
  v: string,
): { kind: 'saml' | 'web identity'; provider: string; account?: string } | undefined {
  const saml = /^arn:aws[a-z-]*:iam::(\d{12}):saml-provider\/([\w.-]{1,128})$/.exec(v);
  if (saml) return { kind: 'saml', provider: saml[2] ?? '', account: saml[1] ?? '' };
  const oidc = /^arn:aws[a-z-]*:iam::(\d{12}):oidc-provider\/([\w.-]{1,255}(\/[\w.-]{1,255}){0,8})$/.exec(v);
  if (oidc) return { kind: 'web identity', provider: oidc[2] ?? '', account: oidc[1] ?? '' };
  if (/^[a-z0-9.-]{1,255}$/.test(v)) return { kind: 'web identity', provider: v };
  return undefined;
}

/** Whether a federation's condition narrows which of the provider's users may assume the role. */
function narrowsFederation(kind: 'saml' | 'web identity', provider: string, condition: Json): boolean {
  const c = conditionValues(condition);
  const set = (key: string) => c.get(key.toLowerCase())?.every((v) => !isWildcard(v)) === true;
  // SAML:aud is what AWS's SAML trust policies name; the provider is the account's own identity provider.
  if (kind === 'saml') return ['SAML:aud', 'SAML:sub', 'SAML:iss'].some(set);
  return set(`${provider}:sub`) || (!SUBJECT_REQUIRED.has(provider) && set(`${provider}:aud`));
}

/** Who a trust statement admits from outside, or undefined when it admits only this account, organization or services. */
function outsiderAdmitted(s: Obj, e: CloudTrailEvent, context: DetectionContext): string | undefined {
  if (s.Effect !== 'Allow') return undefined;
  const p = s.Principal;
  const aws = p === '*' ? ['*'] : values(field(p, 'AWS'));
  for (const v of aws) {
    const account = typeof v === 'string' ? principalAccount(v) : undefined;
    // A principal that is not an account or ARN would be refused by IAM; nothing to claim.
    if (account === undefined) continue;
    if (account !== '*' && !isForeignAccount(account, e, context)) continue;
    if (keepsOutsidersOut(s.Condition, e, context)) continue;
    return account === '*' ? 'anyone (*)' : `account ${account}`;
  }
  for (const v of values(field(p, 'Federated'))) {
    const fed = typeof v === 'string' ? federatedProvider(v) : undefined;
    if (!fed) continue;
    const foreign = fed.account !== undefined && isForeignAccount(fed.account, e, context);
    if (!foreign && narrowsFederation(fed.kind, fed.provider, s.Condition)) continue;
    return foreign
      ? `${fed.kind} provider ${fed.provider} of account ${fed.account}`
      : `any user of ${fed.kind} provider ${fed.provider}`;
  }
  return undefined;
}

const TRUST_POLICY_FIELD: Record<string, string> = {
  CreateRole: 'assumeRolePolicyDocument',
  UpdateAssumeRolePolicy: 'policyDocument',
};

export const roleTrustsOutsider = detection({
  name: 'role-trusts-outsider',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    "a role's trust policy admits another account not trusted by the stage, anyone (*), or a web-identity or SAML federation without a narrowing condition",
  watches: { calls: ['CreateRole', 'UpdateAssumeRolePolicy'] },
  match: (e, context) => {
    const policyField = TRUST_POLICY_FIELD[e.detail.eventName];
    if (!from('iam', e) || policyField === undefined) return undefined;
    const req = e.detail.requestParameters;
    // An absent or unreadable document admits no one we can name: nothing is claimed.
    for (const s of statements(policyDocument(field(req, policyField)))) {
      const who = outsiderAdmitted(s, e, context);
      if (!who) continue;
      const role = shown('iamName', field(req, 'roleName'));
      return {
        what: `role ${role} ${e.detail.eventName === 'CreateRole' ? 'created trusting' : 'now trusts'} ${who}`,
        resource: { type: 'iam role', id: role },
        evidence: { trustStatement: excerpt(s) },
      };
    }
    return undefined;
  },
});

/** IAM Roles Anywhere names: https://docs.aws.amazon.com/rolesanywhere/latest/APIReference/API_CreateTrustAnchor.html */
const ROLES_ANYWHERE_NAME = /^[ a-zA-Z0-9_-]{1,255}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export const rolesAnywhereTrustCreated = detection({
  name: 'roles-anywhere-trust-created',
  severity: 'high',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    'an IAM Roles Anywhere trust anchor or profile created: certificates from outside can now get credentials',
  watches: { calls: ['CreateTrustAnchor', 'CreateProfile'] },
  match: (e) => {
    const n = e.detail.eventName;
    if (!from('rolesanywhere', e) || (n !== 'CreateTrustAnchor' && n !== 'CreateProfile')) return undefined;
    const req = e.detail.requestParameters;
    const raw = str(field(req, 'name'));
    const name = raw !== undefined && ROLES_ANYWHERE_NAME.test(raw) ? raw : '(unreadable)';
    const kind = n === 'CreateTrustAnchor' ? 'trust anchor' : 'profile';
    const roles = values(field(req, 'roleArns')).filter(
      (r): r is string => typeof r === 'string' && ROLE_ARN.test(r),
    );
    const sourceType = str(field(field(req, 'source'), 'sourceType'));
    return {
      what: `IAM Roles Anywhere ${kind} ${name} created`,
      resource: { type: `roles anywhere ${kind}`, id: name },
      evidence: {
        ...(roles.length > 0 ? { roleArns: roles.slice(0, 10).join(', ') } : {}),
        ...(sourceType && /^(AWS_ACM_PCA|CERTIFICATE_BUNDLE|SELF_SIGNED_REPOSITORY)$/.test(sourceType)
          ? { sourceType }
          : {}),
      },
    };
  },
});

/** Lambda's name or ARN of a function: https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html */
const FUNCTION_NAME =
  /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;
const functionName = (v: Json) => {
  const s = str(v);
  return s !== undefined && FUNCTION_NAME.test(s) ? s : '(unreadable)';
};

/** Lambda logs its calls with the API version in the name (AddPermission20150331v2). */
const LAMBDA_ADD_PERMISSION = ['AddPermission20150331', 'AddPermission20150331v2'];
const LAMBDA_URL_CONFIG = ['CreateFunctionUrlConfig20211031', 'UpdateFunctionUrlConfig20211031'];

/**
 * Whether AddPermission's source condition keeps outsiders out: a source ARN (an account's resource),
 * a source account that is ours or trusted, or the stage's organization.
 */
function sourceNarrowed(req: Json, e: CloudTrailEvent, context: DetectionContext): boolean {
  const account = str(field(req, 'sourceAccount'));
  if (account !== undefined && ACCOUNT.test(account) && !isForeignAccount(account, e, context)) return true;
  const org = str(field(req, 'principalOrgID'));
  if (org !== undefined && org === context.organizationId) return true;
  const arn = str(field(req, 'sourceArn'));
  if (arn === undefined || !/^arn:aws[a-z-]*:[a-z0-9-]{1,64}:[a-z0-9-]*:(\d{12})?:.+$/.test(arn))
    return false;
  const arnAccount = arn.split(':')[4] ?? '';
  // A resource with no account in its ARN (an S3 bucket) still names one resource.
  return (
    !isWildcard(arn.split(':').slice(5).join(':')) &&
    (arnAccount === '' || !isForeignAccount(arnAccount, e, context))
  );
}

export const lambdaInvokableByAnyone = detection({
  name: 'lambda-invokable-by-anyone',
  severity: 'high',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    'a Lambda permission for anyone (*) without a source condition, or a function URL with AuthType NONE',
  watches: { calls: [...LAMBDA_ADD_PERMISSION, ...LAMBDA_URL_CONFIG] },
  match: (e, context) => {
    if (!from('lambda', e)) return undefined;
    const n = e.detail.eventName;
    const req = e.detail.requestParameters;
    const fn = functionName(field(req, 'functionName'));
    const resource = { type: 'lambda function', id: fn };
    if (LAMBDA_ADD_PERMISSION.includes(n)) {
      // Only a principal read as * claims anything; a missing or other one is not "anyone".
      if (field(req, 'principal') !== '*' || sourceNarrowed(req, e, context)) return undefined;
      const action = str(field(req, 'action'));
      return {
        what: `function ${fn} invokable by anyone (principal *)`,
        resource,
        evidence: {
          // Not "principal": the page's own evidence names the caller so.
          grantedTo: '*',
          ...(action && /^lambda:[A-Za-z*]{1,64}$/.test(action) ? { action } : {}),
        },
      };
    }
    if (LAMBDA_URL_CONFIG.includes(n)) {
      if (field(req, 'authType') !== 'NONE') return undefined;
      return {
        what: `function ${fn} has a public URL (AuthType NONE)`,
        resource,
        evidence: { authType: 'NONE' },
      };
    }
    return undefined;
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const trustPaged = [
  compromisedKeyQuarantined,
  roleTrustsOutsider,
  rolesAnywhereTrustCreated,
  lambdaInvokableByAnyone,
] as const;
