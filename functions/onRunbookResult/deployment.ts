import type { FunctionDeployment, IamStatement } from '#functions/index.ts';

export const deployment: FunctionDeployment = {
  description:
    'SSM Automation result of a runbook this system started -> escalation, or a notice on its incident',
  // At most one result per runbook start, and onAlarm's starts are limited per incident and rule.
  reservedConcurrency: 2,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: 'on-runbook-result',
  trigger: { rule: 'on-runbook-result', patternFile: 'functions/onRunbookResult/pattern.json' },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
  monitoring: {
    period: 300,
    errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
    widgets: [
      {
        title: 'Runbook results',
        metrics: ['PagesSent', 'PagesSuppressed', 'RunbookResultIgnored', 'ActionsFailed', 'InvalidEvent'],
      },
    ],
  },
  sampleFixture: 'onRunbookResult/execution-failed.json',
  // The execution records onAlarm writes: read one, and claim each result's notice on it.
  sharedStateRecords: () => [{ kind: 'automation', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }],
  readStatements: (): IamStatement[] => [],
  executors: { 'sns.page': { statements: () => [] } },
};
