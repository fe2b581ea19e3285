import { z } from 'zod';
import { Severity } from '#shared/domain/severity.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * onCloudTrail's stage settings: what each detection does on a stage. config/stageConfig.ts composes them
 * into a stage's configuration. Only zod and pure domain modules here: the configuration imports this
 * file while it loads, so nothing here may import the configuration back.
 */

/** `page`: page and record; `record`: action log and metric only; `off`: as if the detection did not exist. */
export const DetectionAction = z.enum(['page', 'record', 'off']);
export type DetectionAction = z.infer<typeof DetectionAction>;

/** What undoes a detection's change, when it can be undone exactly. */
export type RemediationKind = 'revoke-world-ingress' | 'restore-public-access-block' | 'start-logging';

export interface DetectionDefaults {
  /** The CIS AWS Foundations Benchmark monitoring control it covers (v5.0 numbering), if any. */
  cis?: string;
  severity: Severity;
  action: DetectionAction;
  remediation?: RemediationKind;
  /** One line for the README and the page. */
  describes: string;
}

/**
 * The catalogue, in the order detections are tried: the first that matches an event decides (one that
 * is `off` lets the next try). The specific, default-page ones come first, so a world-open ingress rule
 * is `security-group-open-to-world`, and a `/32` one falls through to `security-group-change`.
 */
export const CATALOGUE = {
  'security-group-open-to-world': {
    cis: '4.10',
    severity: 'critical',
    action: 'page',
    remediation: 'revoke-world-ingress',
    describes: 'security-group ingress opened to 0.0.0.0/0 or ::/0 (any /0), with its ports',
  },
  's3-bucket-public': {
    cis: '4.8',
    severity: 'critical',
    action: 'page',
    remediation: 'restore-public-access-block',
    describes:
      'bucket policy with a public principal and no condition, ACL grant to AllUsers/AuthenticatedUsers, public access block deleted or turned off',
  },
  'cloudtrail-tampering': {
    cis: '4.5',
    severity: 'critical',
    action: 'page',
    remediation: 'start-logging',
    describes: 'StopLogging, DeleteTrail, or event selectors that stop recording write management events',
  },
  'admin-policy-attached': {
    cis: '4.4',
    severity: 'high',
    action: 'page',
    describes: 'AdministratorAccess attached to a user, role or group, or an inline policy allowing * on *',
  },
  'root-access-key-created': {
    cis: '4.3',
    severity: 'critical',
    action: 'page',
    describes: 'an access key created for the root user',
  },
  'root-console-sign-in': {
    cis: '4.3',
    severity: 'high',
    action: 'page',
    describes: 'the root user signed in to the console',
  },
  'console-sign-in-without-mfa': {
    cis: '4.2',
    severity: 'high',
    action: 'page',
    describes: 'an IAM user signed in to the console without MFA (federated sign-ins are not IAM users)',
  },
  'guardduty-disabled': {
    severity: 'high',
    action: 'page',
    describes: 'a GuardDuty detector deleted or disabled',
  },
  'vpc-flow-logs-deleted': {
    severity: 'high',
    action: 'page',
    describes: 'VPC flow logs deleted',
  },
  'config-recorder-stopped': {
    cis: '4.9',
    severity: 'high',
    action: 'page',
    describes: 'the AWS Config recorder stopped or deleted',
  },
  'kms-key-disabled': {
    cis: '4.7',
    severity: 'high',
    action: 'page',
    describes: 'a KMS key disabled or scheduled for deletion',
  },
  'root-activity': {
    cis: '4.3',
    severity: 'warning',
    action: 'record',
    describes: 'any other call by the root user',
  },
  'console-sign-in-failure': {
    cis: '4.6',
    severity: 'warning',
    action: 'record',
    describes: 'a failed console sign-in',
  },
  'unauthorized-api-call': {
    cis: '4.1',
    severity: 'info',
    action: 'record',
    describes: 'a call refused with AccessDenied or UnauthorizedOperation (record or off only)',
  },
  'iam-policy-change': {
    cis: '4.4',
    severity: 'info',
    action: 'record',
    describes: 'IAM policies created, changed, attached, detached or deleted',
  },
  'cloudtrail-change': {
    cis: '4.5',
    severity: 'info',
    action: 'record',
    describes: 'trails created, updated or started, event selectors changed',
  },
  's3-bucket-policy-change': {
    cis: '4.8',
    severity: 'info',
    action: 'record',
    describes: 'bucket policy, ACL, CORS, lifecycle, replication or public access block changes',
  },
  'config-change': {
    cis: '4.9',
    severity: 'info',
    action: 'record',
    describes: 'AWS Config recorder or delivery channel changes',
  },
  'security-group-change': {
    cis: '4.10',
    severity: 'info',
    action: 'record',
    describes: 'security groups created, deleted or their rules changed',
  },
  'nacl-change': {
    cis: '4.11',
    severity: 'info',
    action: 'record',
    describes: 'network ACLs and their entries changed',
  },
  'network-gateway-change': {
    cis: '4.12',
    severity: 'info',
    action: 'record',
    describes: 'internet and customer gateways changed',
  },
  'route-table-change': {
    cis: '4.13',
    severity: 'info',
    action: 'record',
    describes: 'route tables and routes changed',
  },
  'vpc-change': {
    cis: '4.14',
    severity: 'info',
    action: 'record',
    describes: 'VPCs, peering and ClassicLink changed',
  },
  'organizations-change': {
    cis: '4.15',
    severity: 'info',
    action: 'record',
    describes: 'AWS Organizations changed',
  },
} as const satisfies Record<string, DetectionDefaults>;

export type DetectionName = keyof typeof CATALOGUE;
export const DETECTION_NAMES = Object.keys(CATALOGUE) as DetectionName[];
export const DetectionName = z.enum(DETECTION_NAMES as [DetectionName, ...DetectionName[]]);

const DetectionSetting = z.strictObject({
  action: DetectionAction.optional(),
  severity: Severity.optional(),
  /** Undo the change (only detections with a remediation); off unless a stage turns it on. */
  remediate: z.boolean().optional(),
});

export const CloudTrailSettings = z.strictObject({
  detections: z.partialRecord(DetectionName, DetectionSetting).default({}),
});
export type CloudTrailSettings = z.infer<typeof CloudTrailSettings>;

/** A detection as a stage runs it: the catalogue's defaults with the stage's overrides. */
export interface DetectionSettings {
  name: DetectionName;
  cis?: string;
  severity: Severity;
  action: DetectionAction;
  remediation?: RemediationKind;
  remediate: boolean;
}

export function detectionSettings(settings: CloudTrailSettings, name: DetectionName): DetectionSettings {
  const d: DetectionDefaults = CATALOGUE[name];
  const o = settings.detections[name] ?? {};
  return {
    name,
    ...(d.cis ? { cis: d.cis } : {}),
    severity: o.severity ?? d.severity,
    action: o.action ?? d.action,
    ...(d.remediation ? { remediation: d.remediation } : {}),
    remediate: d.remediation !== undefined && o.remediate === true,
  };
}

/** What a stage's detection settings get wrong as a whole; undefined when nothing. */
export function cloudTrailSettingsIssue(settings: CloudTrailSettings): string | undefined {
  for (const [name, o] of Object.entries(settings.detections) as [
    DetectionName,
    typeof DetectionSetting._output,
  ][]) {
    // A failed call must never page: the unauthorized-call detection counts them, nothing more.
    if (name === 'unauthorized-api-call' && o.action === 'page') {
      return 'detection unauthorized-api-call may only record or be off: failed calls never page';
    }
    const d: DetectionDefaults = CATALOGUE[name];
    if (o.remediate === true && d.remediation === undefined) {
      return `detection ${name} has no remediation; remediate must not be set`;
    }
  }
  return undefined;
}

/** The remediations a stage turns on (their IAM is granted only then). */
export function enabledRemediations(settings: CloudTrailSettings): RemediationKind[] {
  return DETECTION_NAMES.map((n) => detectionSettings(settings, n))
    .filter((d) => d.remediate && d.action !== 'off')
    .flatMap((d) => (d.remediation ? [d.remediation] : []));
}

/** onCloudTrail's key in a stage: its detections, checked as a whole. */
export const settings = functionSettings({ cloudTrail: CloudTrailSettings.prefault({}) }, (s) => {
  const issue = cloudTrailSettingsIssue(s.cloudTrail);
  return issue === undefined ? undefined : `cloudTrail: ${issue}`;
});
