import type { StageConfig } from '#config/stageConfig.ts';
import type { CfnValue, FunctionDeployment, IamStatement } from '#functions/index.ts';
import type { ConfiguredRunbook } from '#functions/onAlarm/runbookDocuments.ts';
import {
  RESTART_INSTANCE_DOCUMENT,
  type RunbookPermission,
  runbookScopeTags,
} from '#functions/onAlarm/settings.ts';
import { awsRunbookParameters } from '#shared/domain/awsRunbookDocuments.ts';
import { alarmChangeCalendars } from './settings.ts';

/** Every SSM document the stage's rules start, once each (checked to exist at deploy time). */
export function configuredRunbookDocuments(stage: StageConfig): string[] {
  return [...new Set(stage.alarmRules.flatMap((r) => (r.runbook ? [r.runbook.document] : [])))];
}

/** Each rule's runbook, by its place in alarmRules (its document and parameters checked at deploy time). */
export function configuredRunbooks(stage: StageConfig): ConfiguredRunbook[] {
  return stage.alarmRules.flatMap((r, index) =>
    r.runbook
      ? [{ index, rule: r.name, document: r.runbook.document, parameters: Object.keys(r.runbook.parameters) }]
      : [],
  );
}

/** The documents no table of this project knows: their parameters are checked at deploy time only. */
export function runbookDocumentsCheckedAtDeploy(stage: StageConfig): string[] {
  return configuredRunbookDocuments(stage).filter((d) => awsRunbookParameters(d) === undefined);
}

const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_m, _dash, c: string) => c.toUpperCase());

/**
 * AWS-RestartEC2Instance stops and starts an instance and watches its state
 * (https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/automation-aws-restartec2instance.html):
 * only an instance carrying the rules' opt-in tag, whatever alarm names it.
 */
function restartInstanceStatements(stage: StageConfig): IamStatement[] {
  const { key, values } = runbookScopeTags(stage.alarmRules);
  return [
    {
      Sid: 'RestartInstances',
      Effect: 'Allow',
      Action: ['ec2:StopInstances', 'ec2:StartInstances'],
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:instance/*` },
      Condition: {
        StringEquals: { [`aws:ResourceTag/${key}`]: values.length === 1 ? (values[0] as string) : values },
      },
    },
    {
      Sid: 'WatchInstances',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus'],
      Resource: '*',
    },
  ];
}

/** A declared resource may name pseudo parameters (`${AWS::Region}`): CloudFormation substitutes them. */
const declaredResource = (resource: string): CfnValue =>
  resource.includes('${') ? { 'Fn::Sub': resource } : resource;

function declaredStatements(rule: string, permissions: RunbookPermission[]): IamStatement[] {
  return permissions.map((p, i) => ({
    Sid: `${pascal(rule)}${i + 1}`,
    Effect: 'Allow',
    Action: p.actions,
    Resource: p.resources.map(declaredResource),
    ...(p.condition ? { Condition: p.condition } : {}),
  }));
}

/**
 * The automation role's statements: what each configured document needs, and nothing for a document
 * no rule names. AWS-RestartEC2Instance's are built in; any rule may declare its document's own
 * (`runbook.permissions`), which replace the built-in ones for that rule.
 */
export function automationRoleStatements(stage: StageConfig): IamStatement[] {
  const rules = stage.alarmRules.flatMap((r) => (r.runbook ? [{ name: r.name, runbook: r.runbook }] : []));
  const restartBuiltIn = rules.some(
    (r) => r.runbook.permissions === undefined && r.runbook.document === RESTART_INSTANCE_DOCUMENT,
  );
  return [
    ...(restartBuiltIn ? restartInstanceStatements(stage) : []),
    ...rules.flatMap((r) => (r.runbook.permissions ? declaredStatements(r.name, r.runbook.permissions) : [])),
  ];
}

const runbookDefinitions = (documents: string[]): CfnValue[] =>
  // IAM needs at least one resource; this name matches no document, so nothing may start.
  (documents.length > 0 ? documents : ['none-configured']).map((doc) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:automation-definition/${doc}:*`,
  }));

export const deployment: FunctionDeployment = {
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
  environment: { AUTOMATION_ROLE_ARN: { 'Fn::GetAtt': ['RunbookAutomationRole', 'Arn'] } },
  // A runbook start is claimed in a transaction that checks the incident's last OK.
  stateTableActions: ['dynamodb:ConditionCheckItem'],
  // The record of each runbook it starts, and the link to its page, for onRunbookResult.
  sharedStateRecords: (stage) => [
    { kind: 'automation', actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
    // A rule that waits for approval records its pending start (shared/state/approvals.ts).
    ...(stage.alarmRules.some((r) => r.approval === 'required' && r.runbook)
      ? [{ kind: 'approval' as const, actions: ['dynamodb:PutItem'] }]
      : []),
  ],
  changeCalendars: alarmChangeCalendars,
  readStatements: (): IamStatement[] => [
    {
      Sid: 'AlarmTags',
      Effect: 'Allow',
      Action: 'cloudwatch:ListTagsForResource',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:*` },
    },
    // A runbook's target is checked (opt-in tag, managed-by tags) before it starts, through the
    // Tagging API, whose GetResources supports no resource-level permissions.
    { Sid: 'ReadRunbookTargets', Effect: 'Allow', Action: 'tag:GetResources', Resource: '*' },
  ],
  executors: {
    // On every stage: a stage without runbooks may start none (runbookDefinitions).
    'ssm.start-automation': { statements: (stage) => runbookStartStatements(stage) },
    // The page topic and key are the runtime's.
    'sns.page': { statements: () => [] },
  },
};

/** Start the stage's runbooks, as the automation role, and tag their executions. */
function runbookStartStatements(stage: StageConfig): IamStatement[] {
  return [
    {
      // Only the automation definitions the stage's rules name.
      Sid: 'StartConfiguredRunbooks',
      Effect: 'Allow',
      Action: 'ssm:StartAutomationExecution',
      Resource: runbookDefinitions(configuredRunbookDocuments(stage)),
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
  ];
}
