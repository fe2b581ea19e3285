import type { FunctionDeployment, IamStatement } from '#functions/index.ts';

export const deployment: FunctionDeployment = {
  description: 'AWS Health events -> one page per event of a category the stage pages',
  // AWS Health sends an event and its updates, not a stream: a burst queues behind one execution.
  reservedConcurrency: 1,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: '__KEBAB__',
  trigger: { rule: '__KEBAB__', patternFile: 'functions/__NAME__/pattern.json' },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
  monitoring: {
    period: 300,
    errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
    widgets: [
      {
        title: 'AWS Health events',
        metrics: ['PagesSent', 'PagesSuppressed', 'HealthEventsRecorded', 'ActionsFailed', 'InvalidEvent'],
      },
    ],
  },
  sampleFixture: '__NAME__/sample.json',
  readStatements: (): IamStatement[] => [],
  executors: { 'sns.page': { statements: () => [] } },
};
