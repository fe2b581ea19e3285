import { detection, from } from './declaration.ts';
import { valid } from './formats.ts';
import { excerpt, field, type Json, list, str, values } from './json.ts';

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

export const cloudTrailTampering = detection({
  name: 'cloudtrail-tampering',
  cis: '4.5',
  severity: 'critical',
  action: 'page',
  remediations: ['start-logging'],
  describes: 'StopLogging, DeleteTrail, or event selectors that stop recording write management events',
  watches: { calls: ['StopLogging', 'DeleteTrail', 'PutEventSelectors'] },
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

export const guardDutyDisabled = detection({
  name: 'guardduty-disabled',
  severity: 'high',
  action: 'page',
  describes: 'a GuardDuty detector deleted or disabled',
  watches: { calls: ['DeleteDetector', 'UpdateDetector'] },
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
  describes: 'the AWS Config recorder stopped or deleted',
  watches: { calls: ['StopConfigurationRecorder', 'DeleteConfigurationRecorder'] },
  match: (e) => {
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
});
