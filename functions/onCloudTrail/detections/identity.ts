import { truncated } from '#shared/domain/text.ts';
import { changed, detection, from, isRoot } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { excerpt, field, type Obj, policyDocument, statements, str, values } from './json.ts';

/** Identity: administrator rights granted, the root user's keys and calls, refused calls. */

const ADMIN_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\/AdministratorAccess$/;

function allowsEverything(doc: Obj | undefined): Obj | undefined {
  return statements(doc).find(
    (s) => s.Effect === 'Allow' && values(s.Action).includes('*') && values(s.Resource).includes('*'),
  );
}

/** Any successful call by the root user, whatever its name: the rule's branch for root. */
const BY_ROOT = { userIdentity: { type: ['Root'] }, errorCode: [{ exists: false }] };

/** The error codes of a refused call (CIS 4.1), as the rule matches them and as `detect` reads them. */
const REFUSED_PREFIXES = ['AccessDenied', 'UnauthorizedOperation', 'Client.UnauthorizedOperation'];
export const UNAUTHORIZED_ERROR = new RegExp(
  `^(${REFUSED_PREFIXES.map((p) => p.replaceAll('.', '\\.')).join('|')})`,
);

export const adminPolicyAttached = detection({
  name: 'admin-policy-attached',
  cis: '4.4',
  severity: 'high',
  action: 'page',
  describes: 'AdministratorAccess attached to a user, role or group, or an inline policy allowing * on *',
  watches: {
    calls: [
      'AttachUserPolicy',
      'AttachRolePolicy',
      'AttachGroupPolicy',
      'PutUserPolicy',
      'PutRolePolicy',
      'PutGroupPolicy',
    ],
  },
  match: (e) => {
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
});

export const rootAccessKeyCreated = detection({
  name: 'root-access-key-created',
  cis: '4.3',
  severity: 'critical',
  action: 'page',
  describes: 'an access key created for the root user',
  // CreateAccessKey by root: the root branch delivers it, so the call is not listed by name.
  watches: { detail: BY_ROOT },
  match: (e) => {
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
});

export const rootActivity = detection({
  name: 'root-activity',
  cis: '4.3',
  severity: 'warning',
  action: 'record',
  describes: 'any other call by the root user',
  watches: { detail: BY_ROOT },
  match: (e) =>
    isRoot(e) && e.detail.userIdentity.invokedBy === undefined && e.detail.eventType !== 'AwsServiceEvent'
      ? changed(`the root user called ${e.detail.eventName}`)
      : undefined,
});

export const unauthorizedApiCall = detection({
  name: 'unauthorized-api-call',
  cis: '4.1',
  severity: 'info',
  action: 'record',
  describes: 'a call refused with AccessDenied or UnauthorizedOperation (record or off only)',
  watches: { detail: { errorCode: REFUSED_PREFIXES.map((prefix) => ({ prefix })) } },
  // The only detection that sees failed calls, and only refusals: a call that did not happen changed
  // nothing, but a run of refusals is how CIS 4.1 spots someone probing.
  match: (e) => {
    const error = e.detail.errorCode;
    if (error === undefined || !UNAUTHORIZED_ERROR.test(error)) return undefined;
    return {
      what: `${e.detail.eventName} refused (${truncated(error, 64)})`,
      evidence: { errorCode: truncated(error, 256) },
    };
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const identityPaged = [adminPolicyAttached, rootAccessKeyCreated] as const;
/** In the order detections.ts tries them: with the other domains' records, after every page. */
export const identityRecorded = [rootActivity, unauthorizedApiCall] as const;
