import type { FunctionDeployment, IamStatement } from '#functions/index.ts';
import { gatherPermissions as idleStopReads } from '#shared/idle/readPermissions.ts';
import { idleStopStatements } from '#shared/idle/statements.ts';
import { STOP_BUDGET_ACTIONS } from '#shared/state/sharedRecords.ts';
import { costAnomalyChangeCalendars } from './settings.ts';

export const deployment: FunctionDeployment = {
  description: 'Cost Anomaly Detection -> one page per anomaly above the thresholds, with its root causes',
  // A few anomalies a day: 2 lets a retry run beside a new event.
  reservedConcurrency: 2,
  // With costAnomaly.stopIdle on, it runs the idle stopper's fleet scan and stops: the stopper's limits.
  timeout: 300,
  memorySize: 512,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: 'on-cost-anomaly',
  trigger: { rule: 'on-cost-anomaly', patternFile: 'functions/onCostAnomaly/pattern.json' },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
  monitoring: {
    period: 300,
    errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
    widgets: [
      {
        title: 'Cost anomalies',
        metrics: [
          'PagesSent',
          'PagesSuppressed',
          'CostAnomaliesBelowThreshold',
          'InstancesStopped',
          'ActionsFailed',
          'InvalidEvent',
        ],
      },
    ],
  },
  sampleFixture: 'onCostAnomaly/anomaly-detected.json',
  // The idle stopper's EC2 client is in the bundle.
  changeCalendars: costAnomalyChangeCalendars,
  readStatements: (): IamStatement[] => [
    {
      // DescribeBudgets: the budgets a cost anomaly endangers, for its page.
      Sid: 'ReadBudgets',
      Effect: 'Allow',
      Action: 'budgets:ViewBudget',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:budgets::\${AWS::AccountId}:budget/*` },
    },
  ],
  executors: {
    'sns.page': { statements: () => [] },
    // Only on a stage that turns stopping on, and only opted-in instances, whatever idleStop.scope says;
    // the fleet reads serve the stops alone, so they come and go with them.
    'ec2.stop-instances': {
      statements: (stage) => (stage.costAnomaly.stopIdle.enabled ? idleStopStatements('opt-in') : 'off'),
      reads: idleStopReads,
    },
  },
  // The account's hourly stop budget, shared with stopIdleInstances: both spend from one limit.
  sharedStateRecords: (stage) =>
    stage.costAnomaly.stopIdle.enabled
      ? [
          { kind: 'stop-budget', actions: STOP_BUDGET_ACTIONS },
          // The idle stopper's `approval`: an anomaly's stops wait as one pending action per page.
          ...(stage.idleStop.approval === 'required'
            ? [{ kind: 'approval' as const, actions: ['dynamodb:PutItem'] }]
            : []),
        ]
      : [],
};
