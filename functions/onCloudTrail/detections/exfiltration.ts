import type { CloudTrailEvent } from '../schema.ts';
import { type DetectionContext, detection, type Found, from, isForeignAccount } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { field, type Json, list, str } from './json.ts';

/**
 * Data and names leaving the account (docs/detection-coverage.md): network traffic copied, a domain
 * transferred, tables, instances and images exported, notifications subscribed outside.
 */

const FORMATS = {
  networkInterface: /^eni-[0-9a-f]{8,17}$/,
  mirrorTarget: /^tmt-[0-9a-f]{8,17}$/,
  // https://docs.aws.amazon.com/Route53/latest/APIReference/API_domains_TransferDomainToAnotherAwsAccount.html
  domain: /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i,
  dynamoTableArn: /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/,
  imageId: /^ami-[0-9a-f]{8,17}$/,
} as const;

const shownAs = (format: keyof typeof FORMATS, v: Json) => {
  const s = str(v);
  return s !== undefined && FORMATS[format].test(s) ? s : '(unreadable)';
};

/**
 * CreateTrafficMirrorSession is the call that starts copying an interface's packets to a target (a
 * filter or target alone copies nothing, and stays traffic-mirroring-change's record): Elastic's "Full
 * Network Packet Capture Detected", Panther's and Stratus Red Team's traffic mirroring.
 */
export const trafficMirrorSessionStarted = detection({
  name: 'traffic-mirror-session-started',
  severity: 'high',
  action: 'page',
  describes:
    "a traffic mirror session created: a network interface's packets are copied to a mirror target from now on",
  watches: { calls: ['CreateTrafficMirrorSession'] },
  match: (e) => {
    if (!from('ec2', e) || e.detail.eventName !== 'CreateTrafficMirrorSession') return undefined;
    // EC2 names the request after the call.
    const request = field(e.detail.requestParameters, 'CreateTrafficMirrorSessionRequest');
    const eni = shownAs('networkInterface', field(request, 'NetworkInterfaceId'));
    const target = shownAs('mirrorTarget', field(request, 'TrafficMirrorTargetId'));
    return {
      what: `traffic of ${eni} mirrored to target ${target}`,
      resource: { type: 'network interface', id: eni },
      evidence: { mirrorTarget: target },
    };
  },
});

/**
 * A domain moved to another account, or its transfer lock removed so it can be moved out of AWS: whoever
 * holds it then answers for every name under it (Elastic rates both high).
 */
export const domainTransferredOut = detection({
  name: 'domain-transferred-out',
  severity: 'high',
  action: 'page',
  describes:
    'a Route 53 domain transferred to another AWS account, or its transfer lock disabled (it can then be transferred away)',
  watches: { calls: ['TransferDomainToAnotherAwsAccount', 'DisableDomainTransferLock'] },
  match: (e) => {
    if (!from('route53domains', e)) return undefined;
    const call = e.detail.eventName;
    const domain = shownAs('domain', field(e.detail.requestParameters, 'domainName'));
    const resource = { type: 'route 53 domain', id: domain };
    if (call === 'DisableDomainTransferLock')
      return { what: `domain ${domain} transfer lock disabled`, resource, evidence: {} };
    if (call !== 'TransferDomainToAnotherAwsAccount') return undefined;
    const account = shown('accountId', field(e.detail.requestParameters, 'accountId'));
    return {
      what: `domain ${domain} transferred to account ${account}`,
      resource,
      evidence: { toAccount: account },
    };
  },
});

/** An SSM document's name: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ModifyDocumentPermission.html */
const SSM_DOCUMENT = /^[A-Za-z0-9_.-]{3,128}$/;

/**
 * An SSM document shared with all AWS accounts (`All`) or an account outside this one and the stage's
 * trusted ones: its commands, and any secret written into them, are readable there. Sharing with a
 * trusted account is the usual way to reuse a runbook, and is not this finding.
 */
export const ssmDocumentSharedOut = detection({
  name: 'ssm-document-shared-out',
  severity: 'high',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    'an SSM document shared with all AWS accounts or with an account outside this account and `cloudTrail.trustedAccounts`',
  watches: { calls: ['ModifyDocumentPermission'] },
  match: (e, context): Found | undefined => {
    if (!from('ssm', e) || e.detail.eventName !== 'ModifyDocumentPermission') return undefined;
    const req = e.detail.requestParameters;
    if (field(req, 'permissionType') !== 'Share') return undefined;
    const added = list(field(req, 'accountIdsToAdd'));
    const everyone = added.some((a) => str(a)?.toLowerCase() === 'all');
    const accounts = added.map((a) => valid('accountId', a)).filter((a): a is string => a !== undefined);
    const foreign = [...new Set(accounts.filter((a) => isForeignAccount(a, e, context)))];
    const unreadable = added.filter(
      (a) => str(a)?.toLowerCase() !== 'all' && valid('accountId', a) === undefined,
    ).length;
    if (!everyone && foreign.length === 0) return undefined;
    const raw = str(field(req, 'name'));
    const document = raw !== undefined && SSM_DOCUMENT.test(raw) ? raw : '(unreadable)';
    return {
      what: everyone
        ? `SSM document ${document} shared with all AWS accounts`
        : `SSM document ${document} shared with ${foreign.length === 1 ? 'account' : 'accounts'} ${foreign.join(', ')}`,
      resource: { type: 'ssm document', id: document },
      evidence: {
        ...(everyone ? { addedFor: 'All' } : {}),
        ...(foreign.length > 0 ? { foreignAccounts: foreign.join(', ') } : {}),
        ...(unreadable > 0 ? { unreadableGrantees: String(unreadable) } : {}),
      },
    };
  },
});

/** SNS protocols that deliver outside AWS: https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html */
const OUTSIDE_PROTOCOLS = new Set(['email', 'email-json', 'http', 'https', 'sms']);
/** Protocols whose endpoint is an ARN: outside only when that ARN is another account's. */
const ARN_PROTOCOLS = new Set(['sqs', 'lambda', 'firehose', 'application']);

/** How a subscription leaves the account, or undefined when it stays in it (or cannot be read). */
function subscribedOutside(e: CloudTrailEvent, context: DetectionContext): string | undefined {
  const protocol = str(field(e.detail.requestParameters, 'protocol'))?.toLowerCase();
  if (protocol === undefined) return undefined;
  // The endpoint itself (an address, a URL, a number) is the caller's text: never shown.
  if (OUTSIDE_PROTOCOLS.has(protocol)) return protocol;
  if (!ARN_PROTOCOLS.has(protocol)) return undefined;
  const arn = valid('awsArn', field(e.detail.requestParameters, 'endpoint'));
  const account = arn?.split(':')[4];
  return account !== undefined && isForeignAccount(account, e, context)
    ? `${protocol} of account ${account}`
    : undefined;
}

/** What each export call copies where; a Map, so a crafted call name finds nothing on the prototype. */
const EXPORTS = new Map<string, [source: string, what: (req: Json) => Found]>([
  [
    'ExportTableToPointInTime',
    [
      'dynamodb',
      (req) => {
        const table = shownAs('dynamoTableArn', field(req, 'tableArn'));
        const owner = valid('accountId', field(req, 's3BucketOwner'));
        return {
          what: `DynamoDB table ${table} exported to S3 bucket ${shown('bucket', field(req, 's3Bucket'))}${owner ? ` of account ${owner}` : ''}`,
          resource: { type: 'dynamodb table', id: table },
          evidence: {},
        };
      },
    ],
  ],
  [
    'CreateInstanceExportTask',
    [
      'ec2',
      (req) => {
        const instance = shown('instanceId', field(req, 'instanceId'));
        const bucket = shown('bucket', field(field(req, 'exportToS3'), 's3Bucket'));
        return {
          what: `EC2 instance ${instance} exported to S3 bucket ${bucket}`,
          resource: { type: 'ec2 instance', id: instance },
          evidence: {},
        };
      },
    ],
  ],
  [
    'ExportImage',
    [
      'ec2',
      (req) => {
        const image = shownAs('imageId', field(req, 'imageId'));
        const bucket = shown('bucket', field(field(req, 's3ExportLocation'), 's3Bucket'));
        return {
          what: `AMI ${image} exported to S3 bucket ${bucket}`,
          resource: { type: 'ami', id: image },
          evidence: {},
        };
      },
    ],
  ],
  [
    'CreateStoreImageTask',
    [
      'ec2',
      (req) => {
        const image = shownAs('imageId', field(req, 'imageId'));
        const bucket = shown('bucket', field(req, 'bucket'));
        return {
          what: `AMI ${image} stored to S3 bucket ${bucket}`,
          resource: { type: 'ami', id: image },
          evidence: {},
        };
      },
    ],
  ],
]);

/**
 * Copies that leave the account: recorded, not paged, by default. Exports and subscriptions are how
 * teams feed analytics and alerting, so each is routine on its own; the action log keeps who sent what
 * where for the review (rds-exported-to-s3 records RDS exports the same way).
 */
export const dataCopiedOut = detection({
  name: 'data-copied-out',
  severity: 'warning',
  action: 'record',
  describes:
    'a DynamoDB table, EC2 instance or AMI exported to S3, or an SNS topic subscribed by email, SMS, HTTP(S) or another account',
  watches: { calls: [...EXPORTS.keys(), 'Subscribe'] },
  match: (e, context) => {
    const call = e.detail.eventName;
    if (from('sns', e) && call === 'Subscribe') {
      const how = subscribedOutside(e, context);
      if (how === undefined) return undefined;
      const topic = shown('snsTopicArn', field(e.detail.requestParameters, 'topicArn'));
      return {
        what: `SNS topic ${topic} subscribed by ${how}`,
        resource: { type: 'sns topic', id: topic },
        evidence: {},
      };
    }
    const exported = EXPORTS.get(call);
    return exported && from(exported[0], e) ? exported[1](e.detail.requestParameters) : undefined;
  },
});

/**
 * In the order detections.ts tries them: the paged ones among the other pages, the record after every
 * page. A new detection of this file joins one of these lists, and nothing else needs an edit.
 */
export const exfiltrationPaged = [
  trafficMirrorSessionStarted,
  domainTransferredOut,
  ssmDocumentSharedOut,
] as const;
export const exfiltrationRecorded = [dataCopiedOut] as const;
