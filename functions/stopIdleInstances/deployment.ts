import type { FunctionDeployment, OrgFanOut } from '#functions/index.ts';
import { idleStopReadStatements, stopInScopeStatements } from '#shared/idle/statements.ts';
import { STOP_BUDGET_ACTIONS } from '#shared/state/sharedRecords.ts';
import { idleStopChangeCalendars } from './settings.ts';

/**
 * An organization's scan: one message per (account, region), one run each, two at a time; a target
 * that fails five receives (its run failed, or it was throttled) goes to the dead-letter queue.
 */
export const orgFanOut: OrgFanOut = {
  queue: 'idle-scan-targets',
  queueId: 'IdleScanTargetsQueue',
  maximumConcurrency: 2,
  maxReceiveCount: 5,
};

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
    // The scheduled run queues the targets; the event source mapping reads them as this role.
    'sqs.fan-out-scan': {
      central: true,
      statements: (stage) =>
        stage.organization === undefined
          ? 'off'
          : [
              {
                Sid: 'QueueScanTargets',
                Effect: 'Allow',
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': [orgFanOut.queueId, 'Arn'] },
              },
              {
                Sid: 'ConsumeScanTargets',
                Effect: 'Allow',
                Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
                Resource: { 'Fn::GetAtt': [orgFanOut.queueId, 'Arn'] },
              },
            ],
    },
  },
  orgFanOut,
  // The account's hourly stop budget, shared with every function that stops instances.
  sharedStateRecords: (stage) => [
    { kind: 'stop-budget', actions: STOP_BUDGET_ACTIONS },
    // Stops that wait for approval are recorded as one pending action per run (shared/state/approvals.ts).
    ...(stage.idleStop.approval === 'required'
      ? [{ kind: 'approval' as const, actions: ['dynamodb:PutItem'] }]
      : []),
  ],
};
