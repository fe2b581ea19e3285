import type { Deployment, IamStatement } from '#functions/index.ts';

export const deployment: Deployment = {
  description: 'CloudTrail risky account changes -> one page per record, or a record in the action log',
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
  heavyBundle: false,
  statements: (): IamStatement[] => [],
};
