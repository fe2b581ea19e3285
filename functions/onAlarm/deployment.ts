import type { CfnValue, Deployment, IamStatement } from '#functions/index.ts';

const runbookDefinitions = (documents: string[]): CfnValue[] =>
  // IAM needs at least one resource; this name matches no document, so nothing may start.
  (documents.length > 0 ? documents : ['none-configured']).map((doc) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:automation-definition/${doc}:*`,
  }));

export const deployment: Deployment = {
  description: 'CloudWatch alarm state change -> runbook and one page per incident',
  // An alarm storm (an AZ event fires dozens of alarms) runs 10 at a time; SSM starts ~1/s anyway.
  reservedConcurrency: 10,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: 'on-alarm',
  trigger: { rule: 'on-alarm', patternFile: 'functions/onAlarm/pattern.json' },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
  monitoring: {
    period: 300,
    errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
    widgets: [
      {
        title: 'Actions and pages',
        metrics: [
          'PagesSent',
          'PagesSuppressed',
          'RunbooksStarted',
          'RunbooksRefused',
          'ActionsFailed',
          'InvalidEvent',
        ],
      },
    ],
  },
  sampleFixture: 'onAlarm/metric-alarm.json',
  heavyBundle: false,
  environment: { AUTOMATION_ROLE_ARN: { 'Fn::GetAtt': ['RunbookAutomationRole', 'Arn'] } },
  // A runbook start is claimed in a transaction that checks the incident's last OK.
  stateTableActions: ['dynamodb:ConditionCheckItem'],
  statements: (stage): IamStatement[] => [
    {
      Sid: 'AlarmTags',
      Effect: 'Allow',
      Action: 'cloudwatch:ListTagsForResource',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:*` },
    },
    // A runbook's target is checked (opt-in tag, managed-by tags) before it starts.
    // DescribeInstances supports no resource-level permissions.
    { Sid: 'ReadRunbookTargets', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
    {
      // Only the automation definitions the stage's rules name.
      Sid: 'StartConfiguredRunbooks',
      Effect: 'Allow',
      Action: 'ssm:StartAutomationExecution',
      Resource: runbookDefinitions([
        ...new Set(stage.alarmRules.flatMap((r) => (r.runbook ? [r.runbook.document] : []))),
      ]),
    },
    {
      Sid: 'RunbooksRunAsTheAutomationRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: { 'Fn::GetAtt': ['RunbookAutomationRole', 'Arn'] },
      Condition: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
    },
    {
      Sid: 'TagRunbookExecutions',
      Effect: 'Allow',
      Action: 'ssm:AddTagsToResource',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:automation-execution/*`,
      },
    },
  ],
};
