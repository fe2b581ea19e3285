import type { CloudTrailEvent } from '../schema.ts';
import { detection, type Found, from } from './declaration.ts';
import { shown } from './formats.ts';
import { field, type Json, list, str, values } from './json.ts';

/**
 * Deletions an incident review needs (docs/detection-coverage.md): monitoring resources and data stores
 * deleted. Recorded, not paged, by default: the rule sets rate them medium or low, and deployments
 * delete log groups, alarms, rules, tables and buckets every day. What destroys evidence or recovery
 * outright (trails, flow logs, backups, a database without its final snapshot) pages in the files
 * before this one.
 */

/** Formats of the names these records show; anything else shows as unreadable. */
const NAME_FORMATS = {
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html
  logGroup: /^[.\-_/#A-Za-z0-9]{1,512}$/,
  logStream: /^[^:*\s]{1,512}$/,
  alarm: /^[\w .:/#@+=,()-]{1,255}$/,
  // https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DeleteRule.html
  eventRule: /^[.\-_A-Za-z0-9]{1,64}$/,
  wafName: /^[\w-]{1,128}$/,
  rdsIdentifier: /^[A-Za-z][A-Za-z0-9-]{0,254}$/,
  efsFileSystem: /^(arn:aws[a-z-]*:elasticfilesystem:[a-z0-9-]+:\d{12}:file-system\/)?fs-[0-9a-f]{8,40}$/,
  dynamoTable: /^(arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/)?[A-Za-z0-9_.-]{3,255}$/,
} as const;

const named = (format: keyof typeof NAME_FORMATS, v: Json) => {
  const s = str(v);
  return s !== undefined && NAME_FORMATS[format].test(s) ? s : '(unreadable)';
};

const req = (e: CloudTrailEvent, key: string) => field(e.detail.requestParameters, key);

/** Up to ten names of a list the request carries, each checked, and how many more there were. */
function names(format: keyof typeof NAME_FORMATS, v: Json): string {
  const all = list(v).length > 0 ? list(v) : values(v).filter((x) => x !== undefined);
  const shownNames = all.slice(0, 10).map((x) => named(format, x));
  return `${shownNames.join(', ') || '(unreadable)'}${all.length > 10 ? ` and ${all.length - 10} more` : ''}`;
}

const line = (what: string, resource?: Found['resource']): Found => ({
  what,
  ...(resource ? { resource } : {}),
  evidence: {},
});

/**
 * Each watched call's service and its line; a Map, so a crafted call name such as `constructor` finds
 * nothing on the prototype.
 */
type Call = readonly [source: string, what: (e: CloudTrailEvent) => Found];

const eventRule = (done: string): Call => [
  'events',
  (e) => {
    const rule = named('eventRule', req(e, 'name'));
    return line(`EventBridge rule ${rule} ${done}`, { type: 'eventbridge rule', id: rule });
  },
];
const wafDeleted = (kind: string): Call => [
  'wafv2',
  (e) => {
    const name = named('wafName', req(e, 'name'));
    return line(`WAF ${kind} ${name} deleted`, { type: `waf ${kind.toLowerCase()}`, id: name });
  },
];

const MONITORING = new Map<string, Call>([
  [
    'DeleteLogGroup',
    [
      'logs',
      (e) => {
        const group = named('logGroup', req(e, 'logGroupName'));
        return line(`CloudWatch Logs log group ${group} deleted`, { type: 'log group', id: group });
      },
    ],
  ],
  [
    'DeleteLogStream',
    [
      'logs',
      (e) => {
        const group = named('logGroup', req(e, 'logGroupName'));
        const stream = named('logStream', req(e, 'logStreamName'));
        return line(`CloudWatch Logs log stream ${stream} of ${group} deleted`, {
          type: 'log group',
          id: group,
        });
      },
    ],
  ],
  [
    'DeleteAlarms',
    ['monitoring', (e) => line(`CloudWatch alarms deleted: ${names('alarm', req(e, 'alarmNames'))}`)],
  ],
  [
    'DisableAlarmActions',
    ['monitoring', (e) => line(`CloudWatch alarm actions disabled: ${names('alarm', req(e, 'alarmNames'))}`)],
  ],
  ['DisableRule', eventRule('disabled')],
  ['DeleteRule', eventRule('deleted')],
  ['DeleteWebACL', wafDeleted('web ACL')],
  ['DeleteRuleGroup', wafDeleted('rule group')],
]);

export const monitoringDeleted = detection({
  name: 'monitoring-deleted',
  severity: 'warning',
  action: 'record',
  describes:
    'a CloudWatch Logs log group or stream deleted, CloudWatch alarms deleted or their actions disabled, an EventBridge rule disabled or deleted, a WAF web ACL or rule group deleted',
  watches: { calls: [...MONITORING.keys()] },
  match: (e) => {
    const call = MONITORING.get(e.detail.eventName);
    return call && from(call[0], e) ? call[1](e) : undefined;
  },
});

export const dataStoreDeleted = detection({
  name: 'data-store-deleted',
  severity: 'warning',
  action: 'record',
  describes:
    'an S3 bucket, RDS instance, cluster or global cluster, EFS file system or DynamoDB table deleted (an RDS database deleted without a final snapshot pages as backups-destroyed)',
  watches: {
    calls: [
      'DeleteBucket',
      'DeleteDBInstance',
      'DeleteDBCluster',
      'DeleteGlobalCluster',
      'DeleteFileSystem',
      'DeleteTable',
    ],
  },
  match: (e): Found | undefined => {
    const call = e.detail.eventName;
    if (from('s3', e) && call === 'DeleteBucket') {
      const bucket = shown('bucket', req(e, 'bucketName'));
      return line(`S3 bucket ${bucket} deleted`, { type: 's3 bucket', id: bucket });
    }
    if (from('rds', e) && (call === 'DeleteDBInstance' || call === 'DeleteDBCluster')) {
      const kind = call === 'DeleteDBInstance' ? 'instance' : 'cluster';
      const id = named(
        'rdsIdentifier',
        req(e, kind === 'instance' ? 'dBInstanceIdentifier' : 'dBClusterIdentifier'),
      );
      const snapshot = req(e, 'finalDBSnapshotIdentifier');
      const final = snapshot !== undefined ? ` (final snapshot ${named('rdsIdentifier', snapshot)})` : '';
      return line(`RDS ${kind} ${id} deleted${final}`, { type: `rds ${kind}`, id });
    }
    if (from('rds', e) && call === 'DeleteGlobalCluster') {
      const id = named('rdsIdentifier', req(e, 'globalClusterIdentifier'));
      return line(`RDS global cluster ${id} deleted`, { type: 'rds global cluster', id });
    }
    if (from('elasticfilesystem', e) && call === 'DeleteFileSystem') {
      const id = named('efsFileSystem', req(e, 'fileSystemId'));
      return line(`EFS file system ${id} deleted`, { type: 'efs file system', id });
    }
    if (from('dynamodb', e) && call === 'DeleteTable') {
      const id = named('dynamoTable', req(e, 'tableName'));
      return line(`DynamoDB table ${id} deleted`, { type: 'dynamodb table', id });
    }
    return undefined;
  },
});

/** In the order detections.ts tries them: with the other domains' records, after every page. */
export const deletionsRecorded = [monitoringDeleted, dataStoreDeleted] as const;
