import type { FunctionDeployment } from '#functions/index.ts';
import { idleStopReadStatements, stopInScopeStatements } from '#shared/idle/statements.ts';
import { STOP_BUDGET_ACTIONS } from '#shared/state/sharedRecords.ts';
import { idleStopChangeCalendars } from './settings.ts';

export const deployment: FunctionDeployment = {
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
  changeCalendars: idleStopChangeCalendars,
  readStatements: idleStopReadStatements,
  executors: {
    'ec2.stop-instances': { statements: (stage) => stopInScopeStatements(stage.idleStop.scope) },
    'sns.page': { statements: () => [] },
  },
  // The account's hourly stop budget, shared with every function that stops instances.
  sharedStateRecords: () => [{ kind: 'stop-budget', actions: STOP_BUDGET_ACTIONS }],
};
