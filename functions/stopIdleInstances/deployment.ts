import type { CfnValue, Deployment, IamStatement } from '#functions/index.ts';
import { STOP_BUDGET_ACTIONS } from '#shared/state/sharedRecords.ts';
import type { Scope } from './exclusions.ts';

const INSTANCES: CfnValue = {
  'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:instance/*`,
};

/**
 * opt-in: only instances tagged ops:auto-stop=true may be stopped or tagged by this role;
 * opt-out: any but those tagged false (a missing tag satisfies a negated condition).
 */
function inScope(scope: Scope): CfnValue {
  const key = 'aws:ResourceTag/ops:auto-stop';
  return scope === 'opt-in'
    ? { StringEquals: { [key]: 'true' } }
    : { StringNotEqualsIgnoreCase: { [key]: 'false' } };
}

/**
 * What the idle stopper needs, in any function that uses it: read the fleet and its metrics, stop and
 * tag instances in scope, and write no tag but the three stop tags.
 */
export function idleStopStatements(scope: Scope): IamStatement[] {
  return [
    // These reads support no resource-level permissions.
    {
      Sid: 'ReadFleet',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceAttribute', 'cloudwatch:GetMetricData'],
      Resource: '*',
    },
    {
      Sid: 'StopInScope',
      Effect: 'Allow',
      Action: 'ec2:StopInstances',
      Resource: INSTANCES,
      Condition: inScope(scope),
    },
    {
      Sid: 'TagStoppedInScope',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: INSTANCES,
      Condition: inScope(scope),
    },
    {
      Sid: 'OnlyStopTags',
      Effect: 'Deny',
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: {
        'ForAnyValue:StringNotEquals': {
          'aws:TagKeys': ['ops:stopped-by', 'ops:stopped-at', 'ops:stop-reason'],
        },
      },
    },
  ];
}

export const deployment: Deployment = {
  description: 'Stop idle EC2 instances in scope (hourly or by hand), page one summary',
  timeout: 300,
  memorySize: 512,
  // One retry: scheduled runs are deduplicated by event id, and the next run comes within the hour.
  // The hourly scan and a manual invoke at once; one more would only race for the same stop budget.
  reservedConcurrency: 2,
  maximumRetryAttempts: 1,
  maximumEventAge: 3600,
  roleName: 'stop-idle',
  trigger: { rule: 'idle-scan', scheduleParam: 'idleStopSchedule' },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 3 },
  monitoring: {
    period: 3600,
    errors: { evaluationPeriods: 2, datapointsToAlarm: 2 },
    widgets: [
      { title: 'Idle stop', metrics: ['InstancesConsidered', 'InstancesStopped', 'PagesSent'] },
      { title: 'Estimated monthly savings (USD)', metrics: ['EstimatedMonthlySavings'], period: 86400 },
    ],
  },
  sampleFixture: 'stopIdleInstances/manual-dry-run.json',
  statements: (stage): IamStatement[] => idleStopStatements(stage.idleStop.scope),
  // The account's hourly stop budget, shared with every function that stops instances.
  sharedStateRecords: () => [{ kind: 'stop-budget', actions: STOP_BUDGET_ACTIONS }],
};
