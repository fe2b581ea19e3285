import type { StageConfig } from '#config/stageConfig.ts';
import type { ExecutorGrant, FunctionDeployment, IamStatement } from '#functions/index.ts';
import { enabledRemediations, type RemediationKind } from './settings.ts';

export const deployment: FunctionDeployment = {
  description: 'CloudTrail risky account changes -> one page per record, or a record in the action log',
  // Mostly one record at a time; a burst of changes (a script, an attack) queues rather than fans out.
  reservedConcurrency: 5,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: 'on-cloudtrail',
  trigger: { rule: 'on-cloudtrail', patternFile: 'functions/onCloudTrail/pattern.json' },
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
  readStatements: (): IamStatement[] => [],
  // Only the remediations the stage turns on, on this account and region's resources only (in the
  // catalogue's order of their detections).
  executors: {
    'ec2.revoke-ingress': remediation('revoke-world-ingress'),
    's3.restore-public-access-block': remediation('restore-public-access-block'),
    'cloudtrail.start-logging': remediation('start-logging'),
    'sns.page': { statements: () => [] },
  },
};

/** A remediation's executor: its statement on a stage that turns one of its detections' remediation on. */
function remediation(kind: RemediationKind): ExecutorGrant {
  return {
    statements: (stage: StageConfig) =>
      enabledRemediations(stage.cloudTrail).includes(kind) ? [REMEDIATION_STATEMENTS[kind]] : 'off',
  };
}

const REMEDIATION_STATEMENTS: Record<RemediationKind, IamStatement> = {
  'revoke-world-ingress': {
    Sid: 'RevokeWorldOpenIngress',
    Effect: 'Allow',
    Action: 'ec2:RevokeSecurityGroupIngress',
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:security-group/*` },
  },
  'restore-public-access-block': {
    Sid: 'RestoreBucketPublicAccessBlock',
    Effect: 'Allow',
    Action: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
    Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' },
    // Buckets of this account only, whatever name a record carries.
    Condition: { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } },
  },
  'start-logging': {
    Sid: 'StartStoppedTrails',
    Effect: 'Allow',
    Action: ['cloudtrail:GetTrailStatus', 'cloudtrail:StartLogging'],
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:cloudtrail:\${AWS::Region}:\${AWS::AccountId}:trail/*` },
  },
};
