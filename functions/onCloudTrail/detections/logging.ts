import { detection, from } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { excerpt, field, isObj, type Json, list, str, values } from './json.ts';

/** Logging and monitoring: trails, GuardDuty, VPC flow logs and AWS Config turned off or deleted. */

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

/**
 * The enabled rules of a lifecycle configuration that expire (delete) current objects, each as
 * `<rule id> (after N days)` or `(on <date>)`. Transitions, noncurrent-version expirations and
 * delete-marker clean-up delete no log file a trail wrote, so they are not counted.
 */
function expiringRules(configuration: Json): string[] {
  return list(field(configuration, 'Rule')).flatMap((rule) => {
    const expiration = field(rule, 'Expiration');
    if (!isObj(rule) || field(rule, 'Status') !== 'Enabled' || !isObj(expiration)) return [];
    const raw = expiration.Days;
    const days = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : raw;
    const date = valid('isoDate', expiration.Date);
    const when =
      typeof days === 'number' && Number.isInteger(days) && days > 0 && days < 1_000_000
        ? `after ${days} day${days === 1 ? '' : 's'}`
        : date !== undefined
          ? `on ${date}`
          : undefined;
    if (when === undefined) return [];
    const id = rule.ID === undefined ? '(no id)' : shown('lifecycleRuleId', rule.ID);
    return [`${id} (${when})`];
  });
}

/**
 * A lifecycle rule that expires the objects of a bucket a trail logs to deletes the record of what
 * happened, days later and without a DeleteObject call anyone sees (Stratus Red Team's
 * aws.defense-evasion.cloudtrail-lifecycle-rule). The record names the bucket, not whether a trail
 * writes to it: gather reads the trails (DescribeTrails) and the plan records the finding, instead of
 * paging it, for any other bucket.
 */
export const cloudTrailLogExpiry = detection({
  name: 'cloudtrail-log-expiry',
  severity: 'high',
  action: 'page',
  describes:
    "a lifecycle rule that expires (deletes) the objects of a bucket a trail of this account logs to (`PutBucketLifecycle`, `PutBucketLifecycleConfiguration`, an enabled rule with `Expiration`); the same rule on another bucket is recorded, not paged (the trails' buckets are read with DescribeTrails)",
  watches: { calls: ['PutBucketLifecycle', 'PutBucketLifecycleConfiguration'] },
  match: (e) => {
    if (!from('s3', e)) return undefined;
    const req = e.detail.requestParameters;
    const bucket = valid('bucket', field(req, 'bucketName'));
    const rules = expiringRules(field(req, 'LifecycleConfiguration'));
    // An unreadable bucket cannot be checked against the trails: s3-bucket-policy-change records it.
    if (bucket === undefined || rules.length === 0) return undefined;
    return {
      what: `lifecycle rule expires objects of S3 bucket ${bucket}`,
      resource: { type: 's3 bucket', id: bucket },
      // The first rules and a count: 850 long rule ids fill a page and push out who made the call.
      evidence: {
        expiringRules:
          rules.slice(0, 10).join('; ') + (rules.length > 10 ? `; and ${rules.length - 10} more` : ''),
      },
      pagesOnlyIf: { trailLogBucket: bucket },
    };
  },
});

/**
 * UpdateTrail settings whose `false` blinds the trail: validation proves the logs were not edited (CIS
 * 3.2), multi-region and global service events keep other regions' and IAM's calls in it (CIS 3.1).
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_UpdateTrail.html
 */
const TRAIL_SAFEGUARDS = [
  ['enableLogFileValidation', 'log file validation'],
  ['isMultiRegionTrail', 'multi-region logging'],
  ['includeGlobalServiceEvents', 'global service events'],
] as const;

export const cloudTrailTampering = detection({
  name: 'cloudtrail-tampering',
  cis: '4.5',
  severity: 'critical',
  action: 'page',
  remediations: ['start-logging'],
  describes:
    'StopLogging, DeleteTrail, event selectors that stop recording write management events, or an UpdateTrail that turns off log file validation, multi-region logging or global service events',
  watches: { calls: ['StopLogging', 'DeleteTrail', 'PutEventSelectors', 'UpdateTrail'] },
  match: (e) => {
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
      case 'UpdateTrail': {
        // Only what the request sets to false was turned off; a setting it leaves out stays as it was,
        // so any other update (a prefix, a topic) is cloudtrail-change's record.
        const off = TRAIL_SAFEGUARDS.filter(([key]) => field(req, key) === false).map(([, name]) => name);
        if (off.length === 0) return undefined;
        return {
          what: `trail ${resource.id} updated: ${off.map((name) => `${name} turned off`).join(', ')}`,
          resource,
          evidence: { turnedOff: off.join(', ') },
        };
      }
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
});

/**
 * Calls after which a member account's findings no longer reach the administrator account that
 * watches them (Elastic's "AWS GuardDuty Member Account Manipulation"); a Map, so a crafted call name
 * finds nothing on the prototype.
 */
const GUARDDUTY_MEMBER_CALLS = new Map([
  ['DisassociateFromAdministratorAccount', 'disassociated from its administrator account'],
  ['DisassociateFromMasterAccount', 'disassociated from its administrator account'],
  ['DisassociateMembers', 'disassociated member accounts'],
  ['DeleteMembers', 'removed member accounts'],
  ['StopMonitoringMembers', 'stopped monitoring member accounts'],
]);

export const guardDutyDisabled = detection({
  name: 'guardduty-disabled',
  severity: 'high',
  action: 'page',
  describes:
    'a GuardDuty detector deleted, disabled or created disabled, or its findings cut off from the administrator account (disassociated, members removed or no longer monitored)',
  watches: {
    calls: ['DeleteDetector', 'UpdateDetector', 'CreateDetector', ...GUARDDUTY_MEMBER_CALLS.keys()],
  },
  match: (e) => {
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
    // Created with enable false: the region looks covered but finds nothing. Only an explicit false.
    if (e.detail.eventName === 'CreateDetector' && field(e.detail.requestParameters, 'enable') === false)
      return { what: 'GuardDuty detector created disabled', evidence: { enable: 'false' } };
    const cutOff = GUARDDUTY_MEMBER_CALLS.get(e.detail.eventName);
    if (cutOff !== undefined)
      return {
        what: `GuardDuty detector ${id} ${cutOff}`,
        resource: { type: 'guardduty detector', id },
        evidence: {},
      };
    return undefined;
  },
});

export const vpcFlowLogsDeleted = detection({
  name: 'vpc-flow-logs-deleted',
  severity: 'high',
  action: 'page',
  describes: 'VPC flow logs deleted',
  watches: { calls: ['DeleteFlowLogs'] },
  match: (e) => {
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
});

export const configRecorderStopped = detection({
  name: 'config-recorder-stopped',
  cis: '4.9',
  severity: 'high',
  action: 'page',
  describes: 'the AWS Config recorder stopped or deleted, or its delivery channel deleted',
  watches: { calls: ['StopConfigurationRecorder', 'DeleteConfigurationRecorder', 'DeleteDeliveryChannel'] },
  match: (e) => {
    if (!from('config', e)) return undefined;
    const n = e.detail.eventName;
    if (n === 'DeleteDeliveryChannel') {
      // Without its channel the recorder delivers nothing: configuration history stops (Sigma rates it high).
      const name = str(field(e.detail.requestParameters, 'deliveryChannelName'));
      const id = name && /^[\w.-]{1,256}$/.test(name) ? name : '(unreadable)';
      return {
        what: `AWS Config delivery channel ${id} deleted`,
        resource: { type: 'config delivery channel', id },
        evidence: {},
      };
    }
    if (n !== 'StopConfigurationRecorder' && n !== 'DeleteConfigurationRecorder') return undefined;
    const name = str(field(e.detail.requestParameters, 'configurationRecorderName'));
    const id = name && /^[\w.-]{1,256}$/.test(name) ? name : '(unreadable)';
    return {
      what: `AWS Config recorder ${id} ${n === 'StopConfigurationRecorder' ? 'stopped' : 'deleted'}`,
      resource: { type: 'config recorder', id },
      evidence: {},
    };
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const loggingPaged = [
  cloudTrailTampering,
  // Before s3-bucket-policy-change, which records every lifecycle change.
  cloudTrailLogExpiry,
  guardDutyDisabled,
  vpcFlowLogsDeleted,
  configRecorderStopped,
] as const;
