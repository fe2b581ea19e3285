import type { CloudTrailEvent } from '../schema.ts';
import { detection, type Found, from } from './declaration.ts';
import { shown } from './formats.ts';
import { field, type Json, str } from './json.ts';

/**
 * Ways in (docs/detection-coverage.md): who signs in to every account (Identity Center's identity
 * source), cluster administrators, sessions and keys on instances, safeguards of IAM sign-in removed.
 */

const FORMATS = {
  eksCluster: /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/,
  principalArn: /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/-]{1,512}$/,
  instanceId: /^(i|mi)-[0-9a-f]{8,17}$/,
  keyName: /^[\w .@+=,:/-]{1,255}$/,
  mfaSerial: /^(arn:aws[a-z-]*:iam::\d{12}:(mfa|u2f)\/[\w+=,.@/-]{1,512}|[\w+=/:,.@-]{9,256})$/,
  functionName: /^[A-Za-z0-9_-]{1,64}$/,
} as const;

const shownAs = (format: keyof typeof FORMATS, v: Json) => {
  const s = str(v);
  return s !== undefined && FORMATS[format].test(s) ? s : '(unreadable)';
};
const req = (e: CloudTrailEvent, key: string) => field(e.detail.requestParameters, key);
const line = (what: string, resource?: Found['resource']): Found => ({
  what,
  ...(resource ? { resource } : {}),
  evidence: {},
});

/**
 * Identity Center's identity source replaced or its external IdP turned on or off (Sigma's "AWS Identity
 * Center Identity Provider Change", high): whoever controls the new source signs in to every account
 * the permission sets reach. https://docs.aws.amazon.com/singlesignon/latest/userguide/sso-info-in-cloudtrail.html
 */
const IDENTITY_SOURCE_CALLS = [
  'AssociateDirectory',
  'DisassociateDirectory',
  'EnableExternalIdPConfigurationForDirectory',
  'DisableExternalIdPConfigurationForDirectory',
] as const;
const IDENTITY_SOURCE = new Set<string>(IDENTITY_SOURCE_CALLS);

export const identityCenterSourceChanged = detection({
  name: 'identity-center-source-changed',
  severity: 'high',
  action: 'page',
  describes:
    "IAM Identity Center's identity source changed: a directory associated or disassociated, an external identity provider enabled or disabled",
  watches: { calls: IDENTITY_SOURCE_CALLS },
  match: (e) =>
    (from('sso-directory', e) || from('sso', e)) && IDENTITY_SOURCE.has(e.detail.eventName)
      ? line(`Identity Center's identity source changed: ${e.detail.eventName}`)
      : undefined,
});

/** EKS access policies that make a principal a cluster administrator. */
const EKS_ADMIN_POLICY =
  /^arn:aws[a-z-]*:eks::aws:cluster-access-policy\/(AmazonEKSClusterAdminPolicy|AmazonEKSAdminPolicy)$/;

/**
 * An EKS access entry given a cluster-admin access policy (Elastic's "AWS EKS Access Entry Granted
 * Cluster Admin Policy", high): the Kubernetes counterpart of AdministratorAccess attached.
 */
export const eksClusterAdminGranted = detection({
  name: 'eks-cluster-admin-granted',
  severity: 'high',
  action: 'page',
  describes:
    'an EKS cluster-admin access policy (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy) associated with a principal',
  watches: { calls: ['AssociateAccessPolicy'] },
  match: (e) => {
    if (!from('eks', e) || e.detail.eventName !== 'AssociateAccessPolicy') return undefined;
    const policy = str(req(e, 'policyArn'));
    if (policy === undefined || !EKS_ADMIN_POLICY.test(policy)) return undefined;
    const cluster = shownAs('eksCluster', req(e, 'name') ?? req(e, 'clusterName'));
    const principal = shownAs('principalArn', req(e, 'principalArn'));
    return {
      what: `EKS cluster ${cluster}: ${policy.split('/').pop()} granted to ${principal}`,
      resource: { type: 'eks cluster', id: cluster },
      evidence: { policyArn: policy },
    };
  },
});

/** Each watched call's service and its line; a Map, so a crafted call name finds nothing on the prototype. */
const ACCESS_PATHS = new Map<string, [source: string, what: (e: CloudTrailEvent) => Found]>([
  [
    'StartSession',
    [
      'ssm',
      (e) => {
        const target = shownAs('instanceId', req(e, 'target'));
        return line(`SSM session started on ${target}`, { type: 'ec2 instance', id: target });
      },
    ],
  ],
  ['ImportKeyPair', ['ec2', (e) => line(`EC2 key pair ${shownAs('keyName', req(e, 'keyName'))} imported`)]],
  ['CreateKeyPair', ['ec2', (e) => line(`EC2 key pair ${shownAs('keyName', req(e, 'keyName'))} created`)]],
  [
    'EnableSerialConsoleAccess',
    ['ec2', (e) => line(`EC2 serial console access enabled in ${e.detail.awsRegion}`)],
  ],
  [
    'AssociateIamInstanceProfile',
    [
      'ec2',
      (e) => {
        // EC2 names the request after the call.
        const request = req(e, 'AssociateIamInstanceProfileRequest');
        const instance = shownAs('instanceId', field(request, 'InstanceId') ?? req(e, 'instanceId'));
        return line(`instance profile associated with ${instance}`, { type: 'ec2 instance', id: instance });
      },
    ],
  ],
  ['CreateEnvironment', ['cloudshell', () => line('CloudShell environment created')]],
  [
    'CreateFunction20150331',
    [
      'lambda',
      (e) => {
        const fn = shownAs('functionName', req(e, 'functionName'));
        return line(`Lambda function ${fn} created`, { type: 'lambda function', id: fn });
      },
    ],
  ],
  [
    'CreateAccessEntry',
    [
      'eks',
      (e) =>
        line(
          `EKS cluster ${shownAs('eksCluster', req(e, 'clusterName') ?? req(e, 'name'))}: access entry created for ${shownAs('principalArn', req(e, 'principalArn'))}`,
        ),
    ],
  ],
  [
    'AssociateAccessPolicy',
    [
      'eks',
      (e) =>
        line(
          `EKS cluster ${shownAs('eksCluster', req(e, 'name') ?? req(e, 'clusterName'))}: access policy associated with ${shownAs('principalArn', req(e, 'principalArn'))}`,
        ),
    ],
  ],
]);

/**
 * New ways onto instances, clusters and code: recorded, not paged, by default. Sessions, key pairs and
 * functions are what operators and pipelines create every day; the rule sets that alert on them do so
 * on rarity (new terms) or volume, which a single record cannot see. The action log keeps who for the
 * review.
 */
export const accessPathOpened = detection({
  name: 'access-path-opened',
  severity: 'info',
  action: 'record',
  describes:
    'an SSM session started, an EC2 key pair imported or created, serial console access enabled, an instance profile associated, a CloudShell environment or Lambda function created, an EKS access entry created or policy associated',
  watches: { calls: [...ACCESS_PATHS.keys()] },
  match: (e) => {
    const call = ACCESS_PATHS.get(e.detail.eventName);
    return call && from(call[0], e) ? call[1](e) : undefined;
  },
});

/**
 * IAM sign-in safeguards removed: MFA devices, the password policy, permissions boundaries. Recorded, not
 * paged: a replaced phone deactivates MFA, and the rule sets rate these medium except Elastic's MFA
 * deactivation; a review of a compromised user needs them.
 */
export const accountGuardrailWeakened = detection({
  name: 'account-guardrail-weakened',
  severity: 'warning',
  action: 'record',
  describes:
    "an IAM user's MFA device deactivated or a virtual MFA device deleted, the account password policy deleted, a user's or role's permissions boundary removed",
  watches: {
    calls: [
      'DeactivateMFADevice',
      'DeleteVirtualMFADevice',
      'DeleteAccountPasswordPolicy',
      'DeleteUserPermissionsBoundary',
      'DeleteRolePermissionsBoundary',
    ],
  },
  match: (e) => {
    if (!from('iam', e)) return undefined;
    switch (e.detail.eventName) {
      case 'DeactivateMFADevice': {
        const user = shown('iamName', req(e, 'userName'));
        return line(`MFA device of IAM user ${user} deactivated`, { type: 'iam user', id: user });
      }
      case 'DeleteVirtualMFADevice':
        return line(`virtual MFA device ${shownAs('mfaSerial', req(e, 'serialNumber'))} deleted`);
      case 'DeleteAccountPasswordPolicy':
        return line('account password policy deleted');
      case 'DeleteUserPermissionsBoundary': {
        const user = shown('iamName', req(e, 'userName'));
        return line(`permissions boundary of IAM user ${user} removed`, { type: 'iam user', id: user });
      }
      case 'DeleteRolePermissionsBoundary': {
        const role = shown('iamName', req(e, 'roleName'));
        return line(`permissions boundary of IAM role ${role} removed`, { type: 'iam role', id: role });
      }
      default:
        return undefined;
    }
  },
});

/**
 * In the order detections.ts tries them: the paged ones among the other pages, the records after every
 * page. A new detection of this file joins one of these lists, and nothing else needs an edit.
 */
export const accessPaged = [identityCenterSourceChanged, eksClusterAdminGranted] as const;
export const accessRecorded = [accessPathOpened, accountGuardrailWeakened] as const;
