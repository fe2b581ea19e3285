import type { Deployment, IamStatement } from '#functions/index.ts';

export const deployment: Deployment = {
  description: 'Cost Anomaly Detection -> one page per anomaly above the thresholds, with its root causes',
  // A few anomalies a day: 2 lets a retry run beside a new event.
  reservedConcurrency: 2,
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
          'ActionsFailed',
          'InvalidEvent',
        ],
      },
    ],
  },
  sampleFixture: 'onCostAnomaly/anomaly-detected.json',
  heavyBundle: false,
  statements: (): IamStatement[] => [
    {
      // DescribeBudgets: the budgets a cost anomaly endangers, for its page.
      Sid: 'ReadBudgets',
      Effect: 'Allow',
      Action: 'budgets:ViewBudget',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:budgets::\${AWS::AccountId}:budget/*` },
    },
  ],
};
