import type { StageConfigInput } from '#config/stageConfig.ts';

/**
 * Behaviour per stage: the one place users edit to change what the automation does.
 * Validated by config/stageConfig.ts; `npm test` and `sls package` fail on a bad value.
 * Infrastructure values (subscriptions, schedules) are stage params in serverless.yml.
 */
type AlarmRuleInput = NonNullable<StageConfigInput['alarmRules']>[number];

/**
 * An instance failing its status check is restarted: AWS's own runbook, the instance id from the alarm.
 * Only an instance tagged ops:auto-remediate=true and not managed by Auto Scaling, EKS, ECS, Karpenter,
 * EMR or Batch (the default runbook scope).
 */
const restartUnresponsiveInstance: AlarmRuleInput = {
  name: 'restart-unresponsive-instance',
  match: { namespace: 'AWS/EC2', metricName: 'StatusCheckFailed_Instance' },
  runbook: {
    document: 'AWS-RestartEC2Instance',
    parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' } },
  },
  severity: 'critical',
};

export const stages: Record<string, StageConfigInput> = {
  dev: {
    dryRun: true,
    defaultSeverity: 'high',
    paging: { suppressionWindowMinutes: 60 },
    alarmRules: [
      restartUnresponsiveInstance,
      {
        name: 'web-cpu',
        match: { alarmName: 'web-cpu-*' },
        runbook: {
          document: 'AWS-RestartEC2Instance',
          parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' } },
        },
        severity: 'high',
      },
      {
        name: 'page-tagged-critical',
        match: { tag: { key: 'ops:page', value: 'critical' } },
        severity: 'critical',
      },
    ],
    // A dry-run stage: the pages show what each remediation would undo, and nothing is changed.
    cloudTrail: {
      detections: {
        'security-group-open-to-world': { remediate: true },
        's3-bucket-public': { remediate: true },
        'cloudtrail-tampering': { remediate: true },
        'data-shared-publicly': { remediate: true },
        'data-shared-out': { remediate: true },
      },
    },
    // A dry-run stage: failed backup jobs page with the retry that would be started.
    backupFailure: { retry: true },
    // A dry-run stage: an anomaly of $2,000 or more on EC2 in this account pages which opted-in idle
    // instances would be stopped; nothing is stopped.
    costAnomaly: { stopIdle: { enabled: true, minImpactDollars: 2000 } },
  },
  prod: {
    dryRun: false,
    defaultSeverity: 'high',
    paging: { suppressionWindowMinutes: 30 },
    idempotency: { expiresAfterMinutes: 120 },
    actionLogRetentionDays: 90,
    alarmRules: [
      restartUnresponsiveInstance,
      // A database host restarts only once a person approves it (docs/APPROVALS.md): the page gives the
      // approval id and the sls invoke command, and approveAction's role may then start this runbook.
      {
        ...restartUnresponsiveInstance,
        name: 'restart-db-host',
        match: { alarmName: 'db-host-*' },
        approval: 'required',
      },
    ],
    // One restart per incident; a flapping alarm does not restart again within the hour.
    runbooks: { maxStartsPerIncident: 1, cooldownMinutes: 60 },
    // Page a cost anomaly from $250 and 20 % over the expected spend; smaller ones are only recorded.
    costAnomaly: { minImpactDollars: 250, minImpactPercent: 20, require: 'both' },
    // A restart that did not fix a critical alarm stays critical; anything else escalates as high at least.
    runbookResult: { minEscalationSeverity: 'high', notifySuccess: true },
    // Failed backups page; "completed with issues" is recorded, not paged (often noise in prod).
    // Retries stay off until the account's backup roles are reviewed (README, Backup failures).
    backupFailure: { completedWithIssues: 'record' },
  },
  // The central stack of an organization (docs/ORGANIZATION.md): deployed in a dedicated ops account,
  // the StackSets delegated administrator. The ids below are examples: put your organization's.
  org: {
    dryRun: true,
    defaultSeverity: 'high',
    alarmRules: [restartUnresponsiveInstance],
    // A dry-run stage: pages show what would be undone, and the member role holds the scoped actions.
    cloudTrail: {
      detections: {
        'security-group-open-to-world': { remediate: true },
        's3-bucket-public': { remediate: true },
      },
    },
    backupFailure: { retry: true },
    organization: {
      id: 'o-exampleorg1',
      ous: ['ou-ab12-workload1', 'ou-ab12-sandbox01'],
      regions: ['us-east-1', 'eu-west-1'],
      homeRegion: 'us-east-1',
      defaultMode: 'dry-run',
    },
  },
};
