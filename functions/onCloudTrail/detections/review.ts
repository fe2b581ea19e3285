import type { CloudTrailEvent } from '../schema.ts';
import { detection, type Found, from } from './declaration.ts';
import { shown } from './formats.ts';
import { field, type Json, str, values } from './json.ts';

/**
 * Records an incident review needs (issue 18, item 2): who made users and keys, who changed what runs
 * (Lambda code, instance user data, SSM commands, task definitions), who opened a way to copy traffic,
 * snapshots or secrets out. Recorded, not paged, by default: each is routine on its own, and the action
 * log keeps them for the review. They come after every detection that pages in detections.ts, so a
 * record a paging detection claims (a public key policy) is decided by that one.
 */

/** Formats of the identifiers these records show; anything else shows as unreadable. */
const ID_FORMATS = {
  functionName:
    /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/,
  layerName: /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:)?[A-Za-z0-9_-]{1,140}$/,
  instanceId: /^i-([0-9a-f]{8}|[0-9a-f]{17})$/,
  ssmDocument: /^(arn:aws[a-z-]*:ssm:[a-z0-9-]*:(\d{12})?:document\/)?[A-Za-z0-9_.:/-]{3,128}$/,
  taskFamily: /^[A-Za-z0-9_-]{1,255}$/,
  region: /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/,
  guardrail: /^(arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:guardrail\/)?[a-z0-9]{1,16}$/,
  dbSnapshot: /^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(cluster-)?snapshot:)?[A-Za-z][A-Za-z0-9:-]{0,254}$/,
  networkInterface: /^eni-[0-9a-f]{8,17}$/,
  mirrorResource: /^tm[fst]-[0-9a-f]{8,17}$/,
  providerName: /^[\w.+=,@-]{1,128}$/,
  providerArn: /^arn:aws[a-z-]*:iam::\d{12}:(saml-provider|oidc-provider)\/[\w.+=,@/:-]{1,400}$/,
} as const;

const shownAs = (format: keyof typeof ID_FORMATS, v: Json) => {
  const s = str(v);
  return s !== undefined && ID_FORMATS[format].test(s) ? s : '(unreadable)';
};

const req = (e: CloudTrailEvent, key: string) => field(e.detail.requestParameters, key);

/** A record of one call of a list from one service, with its own line of what and to what. */
function recorded<const Name extends string>(d: {
  name: Name;
  source: string;
  describes: string;
  calls: readonly string[];
  what: (e: CloudTrailEvent) => Found | undefined;
}) {
  const names = new Set(d.calls);
  return detection({
    name: d.name,
    severity: 'info',
    action: 'record',
    describes: d.describes,
    watches: { calls: d.calls },
    match: (e) => (from(d.source, e) && names.has(e.detail.eventName) ? d.what(e) : undefined),
  });
}

const line = (what: string, resource?: Found['resource']): Found => ({
  what,
  ...(resource ? { resource } : {}),
  evidence: {},
});

// --- Identity -----------------------------------------------------------------------------------

export const iamUserCreated = recorded({
  name: 'iam-user-created',
  source: 'iam',
  describes: 'an IAM user created',
  calls: ['CreateUser'],
  what: (e) => {
    const user = shown('iamName', req(e, 'userName'));
    return line(`IAM user ${user} created`, { type: 'iam user', id: user });
  },
});

/**
 * The caller acts on its own credentials only when it is that IAM user. A role session's name is
 * chosen by whoever assumes the role, so it never proves who the session is: a role acting on a
 * user's credentials is always someone else's.
 */
const isCallersOwnUser = (e: CloudTrailEvent, user: string) =>
  e.detail.userIdentity.type === 'IAMUser' && e.detail.userIdentity.userName === user;

const CREDENTIAL_CALLS: Record<string, string> = {
  CreateAccessKey: 'an access key created',
  CreateLoginProfile: 'a console password set',
  UpdateLoginProfile: 'the console password changed',
};

export const credentialsForAnotherUser = recorded({
  name: 'credentials-for-another-user',
  source: 'iam',
  describes: 'an access key or console password created or changed for another IAM user',
  calls: Object.keys(CREDENTIAL_CALLS),
  what: (e) => {
    const named = req(e, 'userName');
    // No user named: the caller's own key or password (root's own key pages as root-access-key-created).
    if (named === undefined) return undefined;
    const user = shown('iamName', named);
    if (isCallersOwnUser(e, user)) return undefined;
    const keyId = str(field(field(e.detail.responseElements, 'accessKey'), 'accessKeyId'));
    return {
      what: `${CREDENTIAL_CALLS[e.detail.eventName] ?? e.detail.eventName} for IAM user ${user}`,
      resource: { type: 'iam user', id: user },
      evidence: { newAccessKeyId: keyId && /^AKIA[A-Z0-9]{12,124}$/.test(keyId) ? keyId : undefined },
    };
  },
});

const IAM_PROVIDER_CALLS = [
  'CreateSAMLProvider',
  'UpdateSAMLProvider',
  'DeleteSAMLProvider',
  'CreateOpenIDConnectProvider',
  'DeleteOpenIDConnectProvider',
  'UpdateOpenIDConnectProviderThumbprint',
  'AddClientIDToOpenIDConnectProvider',
] as const;
/** Identity Center (eventSource sso.amazonaws.com): who may sign in to which account with what. */
const IDENTITY_CENTER_CALLS = [
  'CreatePermissionSet',
  'UpdatePermissionSet',
  'DeletePermissionSet',
  'AttachManagedPolicyToPermissionSet',
  'PutInlinePolicyToPermissionSet',
  'CreateAccountAssignment',
  'DeleteAccountAssignment',
] as const;
const IAM_PROVIDERS = new Set<string>(IAM_PROVIDER_CALLS);
const IDENTITY_CENTER = new Set<string>(IDENTITY_CENTER_CALLS);

export const identityProviderChange = detection({
  name: 'identity-provider-change',
  severity: 'info',
  action: 'record',
  describes: 'SAML or OIDC identity providers, or Identity Center permission sets and assignments, changed',
  watches: { calls: [...IAM_PROVIDER_CALLS, ...IDENTITY_CENTER_CALLS] },
  match: (e) => {
    const call = e.detail.eventName;
    if (from('sso', e) && IDENTITY_CENTER.has(call)) return line(`Identity Center ${call}`);
    if (!from('iam', e) || !IAM_PROVIDERS.has(call)) return undefined;
    const arn = req(e, 'sAMLProviderArn') ?? req(e, 'openIDConnectProviderArn');
    const provider = arn !== undefined ? shownAs('providerArn', arn) : undefined;
    const name = req(e, 'name');
    const id = provider ?? (name !== undefined ? shownAs('providerName', name) : undefined);
    return line(`${call}${id ? ` ${id}` : ''}`, id ? { type: 'identity provider', id } : undefined);
  },
});

// --- Compute: what runs, and on what --------------------------------------------------------------

/**
 * CloudTrail logs Lambda calls under their API version's name (UpdateFunctionCode20150331v2): the
 * rules match names exactly, so each name CloudTrail uses is listed.
 * https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
 */
const LAMBDA_CALLS: Record<string, string> = {
  UpdateFunctionCode20150331v2: 'code updated',
  UpdateFunctionCode20150331: 'code updated',
  UpdateFunctionConfiguration20150331v2: 'configuration updated',
  UpdateFunctionConfiguration20150331: 'configuration updated',
  PublishLayerVersion20181031: 'layer version published',
  AddLayerVersionPermission20181031: 'layer version shared',
};

export const lambdaCodeOrConfigurationChange = recorded({
  name: 'lambda-code-or-configuration-change',
  source: 'lambda',
  describes: "a Lambda function's code or configuration changed, a layer published or shared",
  calls: Object.keys(LAMBDA_CALLS),
  what: (e) => {
    const done = LAMBDA_CALLS[e.detail.eventName] ?? e.detail.eventName;
    const layer = req(e, 'layerName');
    if (layer !== undefined) {
      const name = shownAs('layerName', layer);
      const principal = str(req(e, 'principal'));
      return {
        what: `Lambda layer ${name}: ${done}`,
        resource: { type: 'lambda layer', id: name },
        // Who a layer is shared with: an account id or `*`; anything else is not shown.
        evidence: { sharedWith: principal && /^(\*|\d{12})$/.test(principal) ? principal : undefined },
      };
    }
    const fn = shownAs('functionName', req(e, 'functionName'));
    const layers = values(req(e, 'layers')).filter((l) => l !== undefined);
    const readable = layers.map((l) => shownAs('layerName', l));
    return {
      what: `Lambda function ${fn}: ${done}`,
      resource: { type: 'lambda function', id: fn },
      evidence: { layers: readable.length > 0 ? readable.join(', ') : undefined },
    };
  },
});

export const instanceUserDataChange = recorded({
  name: 'instance-user-data-change',
  source: 'ec2',
  describes: "an EC2 instance's user data (the script it runs at start) replaced",
  calls: ['ModifyInstanceAttribute'],
  what: (e) => {
    // Only the user data attribute; CloudTrail logs it as `userData` (its value redacted).
    if (req(e, 'userData') === undefined && str(req(e, 'attribute')) !== 'userData') return undefined;
    const instance = shownAs('instanceId', req(e, 'instanceId'));
    return line(`user data of instance ${instance} replaced`, { type: 'ec2 instance', id: instance });
  },
});

export const remoteCommandOrTaskDefinition = detection({
  name: 'remote-command-or-task-definition',
  severity: 'info',
  action: 'record',
  describes: 'an SSM command sent, an SSM document created or updated, an ECS task definition registered',
  watches: { calls: ['SendCommand', 'CreateDocument', 'UpdateDocument', 'RegisterTaskDefinition'] },
  match: (e) => {
    const call = e.detail.eventName;
    if (from('ecs', e) && call === 'RegisterTaskDefinition') {
      const family = shownAs('taskFamily', req(e, 'family'));
      return line(`ECS task definition ${family} registered`, { type: 'ecs task definition', id: family });
    }
    if (!from('ssm', e)) return undefined;
    const document = shownAs('ssmDocument', req(e, call === 'SendCommand' ? 'documentName' : 'name'));
    if (call === 'CreateDocument' || call === 'UpdateDocument') {
      return line(`SSM document ${document}: ${call}`, { type: 'ssm document', id: document });
    }
    if (call !== 'SendCommand') return undefined;
    const targets = values(req(e, 'instanceIds')).filter((i) => i !== undefined);
    // Without instance ids the command names its instances by tag or resource group (`targets`).
    const to = targets.length > 0 ? `${targets.length} instance(s)` : 'the instances its targets select';
    return {
      what: `SSM ${document} sent to ${to}`,
      evidence: {
        instances:
          targets.length > 0
            ? targets
                .slice(0, 10)
                .map((i) => shownAs('instanceId', i))
                .join(', ')
            : undefined,
      },
    };
  },
});

export const instanceConnectKeySent = recorded({
  name: 'instance-connect-key-sent',
  source: 'ec2-instance-connect',
  describes: 'an SSH public key pushed to an instance or its serial console (EC2 Instance Connect)',
  calls: ['SendSSHPublicKey', 'SendSerialConsoleSSHPublicKey'],
  what: (e) => {
    const instance = shownAs('instanceId', req(e, 'instanceId'));
    const osUser = str(req(e, 'instanceOSUser'));
    return {
      what: `SSH key pushed to instance ${instance}${e.detail.eventName === 'SendSerialConsoleSSHPublicKey' ? ' (serial console)' : ''}`,
      resource: { type: 'ec2 instance', id: instance },
      evidence: { osUser: osUser && /^[a-z_][a-z0-9_.-]{0,31}$/.test(osUser) ? osUser : undefined },
    };
  },
});

// --- Data and account: keys, traffic, regions, sign-in tokens, guardrails, snapshots, buckets --------

export const kmsKeyPolicyChange = recorded({
  name: 'kms-key-policy-change',
  source: 'kms',
  describes: "a KMS key's policy replaced (a public one pages as its own detection, listed before)",
  calls: ['PutKeyPolicy'],
  what: (e) => {
    const key = shown('kmsKey', req(e, 'keyId'));
    return line(`policy of KMS key ${key} replaced`, { type: 'kms key', id: key });
  },
});

export const trafficMirroringChange = detection({
  name: 'traffic-mirroring-change',
  severity: 'info',
  action: 'record',
  describes: 'a traffic mirror session, target or filter created or changed (a copy of network traffic)',
  watches: {
    calls: [
      'CreateTrafficMirrorSession',
      'ModifyTrafficMirrorSession',
      'CreateTrafficMirrorTarget',
      'CreateTrafficMirrorFilter',
      'CreateTrafficMirrorFilterRule',
    ],
  },
  match: (e) => {
    const call = e.detail.eventName;
    if (!from('ec2', e) || !/^(Create|Modify)TrafficMirror(Session|Target|Filter|FilterRule)$/.test(call)) {
      return undefined;
    }
    // The EC2 records name the request after the call (`CreateTrafficMirrorTargetRequest`).
    const request = req(e, `${call}Request`);
    const eni = field(request, 'NetworkInterfaceId');
    const session = field(request, 'TrafficMirrorSessionId');
    return {
      what: call,
      evidence: {
        networkInterface: eni !== undefined ? shownAs('networkInterface', eni) : undefined,
        session: session !== undefined ? shownAs('mirrorResource', session) : undefined,
      },
    };
  },
});

export const regionOptInChange = recorded({
  name: 'region-opt-in-change',
  source: 'account',
  describes: 'an opt-in region enabled or disabled for the account',
  calls: ['EnableRegion', 'DisableRegion'],
  what: (e) => {
    const region = shownAs('region', req(e, 'RegionName') ?? req(e, 'regionName'));
    return line(`region ${region} ${e.detail.eventName === 'EnableRegion' ? 'enabled' : 'disabled'}`, {
      type: 'region',
      id: region,
    });
  },
});

export const consoleFederationToken = recorded({
  name: 'console-federation-token',
  source: 'signin',
  describes: 'a console sign-in token issued for temporary credentials (GetSigninToken)',
  calls: ['GetSigninToken'],
  what: () => line('console sign-in token issued for temporary credentials'),
});

export const bedrockGuardrailChange = recorded({
  name: 'bedrock-guardrail-change',
  source: 'bedrock',
  describes: 'a Bedrock guardrail updated or deleted',
  calls: ['UpdateGuardrail', 'DeleteGuardrail'],
  what: (e) => {
    const guardrail = shownAs('guardrail', req(e, 'guardrailIdentifier'));
    return line(
      `Bedrock guardrail ${guardrail} ${e.detail.eventName === 'DeleteGuardrail' ? 'deleted' : 'updated'}`,
      { type: 'bedrock guardrail', id: guardrail },
    );
  },
});

const SNAPSHOT_CALLS: Record<string, [field: string, done: string]> = {
  CopyDBSnapshot: ['targetDBSnapshotIdentifier', 'copied'],
  CopyDBClusterSnapshot: ['targetDBClusterSnapshotIdentifier', 'copied'],
  DeleteDBSnapshot: ['dBSnapshotIdentifier', 'deleted'],
  DeleteDBClusterSnapshot: ['dBClusterSnapshotIdentifier', 'deleted'],
};

export const rdsSnapshotCopiedOrDeleted = recorded({
  name: 'rds-snapshot-copied-or-deleted',
  source: 'rds',
  describes: 'an RDS DB or cluster snapshot copied or deleted',
  calls: Object.keys(SNAPSHOT_CALLS),
  what: (e) => {
    const [key, done] = SNAPSHOT_CALLS[e.detail.eventName] ?? ['dBSnapshotIdentifier', e.detail.eventName];
    const snapshot = shownAs('dbSnapshot', req(e, key));
    const source = req(
      e,
      e.detail.eventName.includes('Cluster')
        ? 'sourceDBClusterSnapshotIdentifier'
        : 'sourceDBSnapshotIdentifier',
    );
    const destination = str(req(e, 'destinationRegion'));
    return {
      what: `RDS snapshot ${snapshot} ${done}`,
      resource: { type: 'rds snapshot', id: snapshot },
      evidence: {
        copiedFrom: source !== undefined ? shownAs('dbSnapshot', source) : undefined,
        destinationRegion: destination !== undefined ? shownAs('region', destination) : undefined,
      },
    };
  },
});

export const s3BucketEncryptionRemoved = recorded({
  name: 's3-bucket-encryption-removed',
  source: 's3',
  describes: "a bucket's default encryption configuration deleted",
  calls: ['DeleteBucketEncryption'],
  what: (e) => {
    const bucket = shown('bucket', req(e, 'bucketName'));
    return line(`default encryption of bucket ${bucket} deleted`, { type: 's3 bucket', id: bucket });
  },
});

/** The review records, in the order detections.ts tries them (after every paging detection). */
export const reviewRecorded = [
  iamUserCreated,
  credentialsForAnotherUser,
  identityProviderChange,
  lambdaCodeOrConfigurationChange,
  instanceUserDataChange,
  remoteCommandOrTaskDefinition,
  instanceConnectKeySent,
  kmsKeyPolicyChange,
  trafficMirroringChange,
  regionOptInChange,
  consoleFederationToken,
  bedrockGuardrailChange,
  rdsSnapshotCopiedOrDeleted,
  s3BucketEncryptionRemoved,
] as const;
