import type { FunctionDeployment, IamStatement } from '#functions/index.ts';
import { backupChangeCalendars } from './settings.ts';

export const deployment: FunctionDeployment = {
  description:
    'AWS Backup jobs failed or completed with issues -> one page per job, a failed backup retried once',
  // A plan failing for every resource at once (a vault policy, a role) sends a burst: it queues.
  reservedConcurrency: 3,
  maximumRetryAttempts: 2,
  maximumEventAge: 3600,
  roleName: 'on-backup-failure',
  trigger: { rule: 'on-backup-failure', patternFile: 'functions/onBackupFailure/pattern.json' },
  ruleRetryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 10 },
  monitoring: {
    period: 300,
    errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
    widgets: [
      {
        title: 'Backup failures',
        metrics: [
          'PagesSent',
          'PagesSuppressed',
          'BackupRetriesStarted',
          'BackupRetriesRefused',
          'BackupJobsCompletedWithIssues',
          'ActionsFailed',
          'InvalidEvent',
        ],
      },
    ],
  },
  sampleFixture: 'onBackupFailure/backup-job-failed.json',
  changeCalendars: backupChangeCalendars,
  // A retry that waits for approval is recorded as pending (shared/state/approvals.ts).
  sharedStateRecords: (stage) =>
    stage.backupFailure.retry && stage.backupFailure.approval === 'required'
      ? [{ kind: 'approval', actions: ['dynamodb:PutItem'] }]
      : [],
  readStatements: (): IamStatement[] => [
    {
      // DescribeBackupJob: AWS's own answer about a job (the event is only a hint); no resource-level
      // permissions exist for it.
      Sid: 'ReadBackupJobs',
      Effect: 'Allow',
      Action: 'backup:DescribeBackupJob',
      Resource: '*',
    },
  ],
  executors: {
    // Only on a stage that turns retries on.
    'backup.retry-job': { statements: (stage) => (stage.backupFailure.retry ? RETRY_STATEMENTS : 'off') },
    'sns.page': { statements: () => [] },
  },
};

/** Only when the stage turns retries on: start a backup into this account's vaults, as a role Backup assumes. */
const RETRY_STATEMENTS: IamStatement[] = [
  {
    Sid: 'RetryFailedBackupJobs',
    Effect: 'Allow',
    Action: 'backup:StartBackupJob',
    Resource: {
      'Fn::Sub': `arn:\${AWS::Partition}:backup:\${AWS::Region}:\${AWS::AccountId}:backup-vault:*`,
    },
  },
  {
    // StartBackupJob passes the failed job's own role: this account's roles, and only to AWS Backup.
    Sid: 'PassBackupRolesToBackup',
    Effect: 'Allow',
    Action: 'iam:PassRole',
    Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/*` },
    Condition: { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
  },
];
