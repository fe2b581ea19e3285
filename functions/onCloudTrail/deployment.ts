import type { StageConfig } from '#config/stageConfig.ts';
import type { ExecutorGrant, FunctionDeployment, IamStatement } from '#functions/index.ts';
import { REMEDIATIONS, type RemediationKind } from './detections/remediations.ts';
import { EVENT_PATTERNS } from './detections.ts';
import { cloudTrailChangeCalendars, enabledRemediations, remediationsAwaitApproval } from './settings.ts';

export const deployment: FunctionDeployment = {
  description: 'CloudTrail risky account changes -> one page per record, or a record in the action log',
  // Mostly one record at a time; a burst of changes (a script, an attack) queues rather than fans out.
  reservedConcurrency: 5,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: 'on-cloudtrail',
  // Derived from the detections' declarations: the calls they watch, never a hand-kept list.
  trigger: {
    rule: 'on-cloudtrail',
    patterns: EVENT_PATTERNS,
    patternsFrom: 'functions/onCloudTrail/detections/',
  },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
  monitoring: {
    period: 300,
    errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
    widgets: [
      {
        title: 'Detections and pages',
        metrics: ['DetectionsPaged', 'DetectionsRecorded', 'PagesSent', 'PagesSuppressed', 'InvalidEvent'],
      },
    ],
  },
  sampleFixture: 'onCloudTrail/security-group-open-world.json',
  changeCalendars: cloudTrailChangeCalendars,
  // A detection whose remediation waits for approval records it as pending (shared/state/approvals.ts).
  sharedStateRecords: (stage) =>
    remediationsAwaitApproval(stage.cloudTrail) ? [{ kind: 'approval', actions: ['dynamodb:PutItem'] }] : [],
  readStatements: (): IamStatement[] => [
    {
      // DescribeTrails: which buckets the trails log to (cloudtrail-log-expiry); it has no resource-level
      // permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html).
      Sid: 'ReadTrailLogBuckets',
      Effect: 'Allow',
      Action: 'cloudtrail:DescribeTrails',
      Resource: '*',
    },
    {
      // ListBuckets: whether an RDS export's bucket is this account's (rds-exported-to-s3); it takes no
      // resource (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
      Sid: 'ReadOwnBuckets',
      Effect: 'Allow',
      Action: 's3:ListAllMyBuckets',
      Resource: '*',
    },
  ],
  // Only the remediations the stage turns on, on this account and region's resources only (in the
  // catalogue's order of their detections).
  executors: {
    ...Object.fromEntries(
      (Object.keys(REMEDIATIONS) as RemediationKind[]).map((kind) => [
        REMEDIATIONS[kind].intentKind,
        remediation(kind),
      ]),
    ),
    'sns.page': { statements: () => [] },
  },
};

/** A remediation's executor: its statement on a stage that turns one of its detections' remediation on. */
function remediation(kind: RemediationKind): ExecutorGrant {
  return {
    statements: (stage: StageConfig) =>
      enabledRemediations(stage.cloudTrail).includes(kind) ? [REMEDIATIONS[kind].statement] : 'off',
  };
}
