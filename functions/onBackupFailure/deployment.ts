import type { Deployment, IamStatement } from '#functions/index.ts';

export const deployment: Deployment = {
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
  // The existence check of EC2 instances and EBS volumes loads the EC2 client.
  statements: (stage): IamStatement[] => [
    {
      // DescribeBackupJob: AWS's own answer about a job (the event is only a hint); no resource-level
      // permissions exist for it.
      Sid: 'ReadBackupJobs',
      Effect: 'Allow',
      Action: 'backup:DescribeBackupJob',
      Resource: '*',
    },
    {
      // Whether a failed backup's EC2 instance or EBS volume still exists (Describe* take no resource ARN).
      Sid: 'CheckBackedUpInstancesAndVolumes',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeVolumes'],
      Resource: '*',
    },
    {
      Sid: 'CheckBackedUpTables',
      Effect: 'Allow',
      Action: 'dynamodb:DescribeTable',
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/*` },
    },
    ...(stage.backupFailure.retry ? RETRY_STATEMENTS : []),
  ],
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
