/**
 * Fixtures that must reach no function, and why: the package test routes every fixture through the
 * packaged rules and expects these to reach none. Other invalid fixtures match the rule's shape: they
 * reach their function, whose schema refuses them.
 */
export const UNROUTED: Record<string, string> = {
  'onAlarm/insufficient-data.json': 'only ALARM and OK transitions are routed',
  'onAlarm/invalid/bad-state.json': 'only ALARM and OK transitions are routed',
  'onAlarm/invalid/missing-alarm-name.json': 'the rule needs an alarm name (not ours)',
  'onAlarm/invalid/wrong-detail-type.json': 'configuration changes are not routed',
  'onCloudTrail/security-group-open-world-failed.json': 'a failed call changed nothing',
  'onCloudTrail/security-group-open-world-by-own-role.json': "this stack's own role: no loop",
  'onCloudTrail/security-group-revoke-by-own-role.json': "this stack's own role: no loop",
  'onCloudTrail/readonly/sts-get-caller-identity-trufflehog.json':
    'a read-only call: only the read-only rule delivers it, off on dev (cloudTrail.readOnlyRule)',
  'onCloudTrail/readonly/sts-get-caller-identity-cli.json':
    'a read-only call: only the read-only rule delivers it, off on dev (cloudTrail.readOnlyRule)',
  'onCloudTrail/readonly/ec2-get-password-data.json':
    'a read-only call: only the read-only rule delivers it, off on dev (cloudTrail.readOnlyRule)',
  'onCloudTrail/readonly/secretsmanager-get-secret-value.json':
    'a read-only call: only the read-only rule delivers it, off on dev (cloudTrail.readOnlyRule)',
  'onCloudTrail/readonly/secretsmanager-batch-get-secret-value.json':
    'a read-only call: only the read-only rule delivers it, off on dev (cloudTrail.readOnlyRule)',
  'onCloudTrail/records/iam-list-access-keys.json': 'ListAccessKeys is not a watched call (a near miss)',
  'onCloudTrail/records/lambda-delete-function.json': 'DeleteFunction is not a watched call (a near miss)',
  'onCloudTrail/records/ec2-describe-instances.json': 'DescribeInstances is not a watched call (a near miss)',
  'onCloudTrail/records/ec2-describe-traffic-mirror-targets.json':
    'DescribeTrafficMirrorTargets is not a watched call (a near miss)',
  'onCloudTrail/records/bedrock-list-guardrails.json': 'ListGuardrails is not a watched call (a near miss)',
  'onCloudTrail/records/rds-create-db-snapshot.json': 'CreateDBSnapshot is not a watched call (a near miss)',
  'onCloudTrail/records/s3-put-bucket-encryption.json':
    'PutBucketEncryption is not a watched call (a near miss)',
  'onRunbookResult/invalid/in-progress.json':
    'only results (Failed, TimedOut, Cancelled, Success) are routed',
  'onRunbookResult/invalid/step-status-change.json': 'step events are not routed, only executions',
  'stopIdleInstances/scheduled-event.json':
    'its schedule rule invokes the function; no event pattern matches it',
  'stopIdleInstances/invalid/scheduled-dry-run.json': 'a crafted scheduled shape: only the schedule invokes',
  'stopIdleInstances/invalid/scheduled-oversized-id.json':
    'a crafted scheduled shape: only the schedule invokes',
  'stopIdleInstances/invalid/scheduled-max-stops.json':
    'a crafted scheduled shape: only the schedule invokes',
  'onBackupFailure/backup-job-completed.json': 'a plain COMPLETED job is not a failure',
  'onBackupFailure/backup-job-running.json': 'a running job is not a failure',
  'onBackupFailure/copy-job-completed.json': 'a plain COMPLETED copy is not a failure',
  'onBackupFailure/restore-job-pending.json': 'a pending restore is not a failure',
  'stopIdleInstances/aws-docs/scheduled-event.json':
    'its schedule rule invokes the function; no event pattern matches it',
  'onBackupFailure/aws-docs/backup-job-completed.json': 'a plain COMPLETED job is not a failure',
  'onBackupFailure/aws-docs/backup-job-running.json': 'a running job is not a failure',
  'onBackupFailure/aws-docs/backup-job-pending.json': 'a pending job (empty status message) is not a failure',
  'onBackupFailure/aws-docs/backup-job-created.json': 'a created job is not a failure',
  'onBackupFailure/aws-docs/copy-job-running.json': 'a running copy is not a failure',
  'onBackupFailure/aws-docs/copy-job-completed.json': 'a plain COMPLETED copy is not a failure',
  'onBackupFailure/aws-docs/copy-job-created.json': 'a created copy is not a failure',
  'onBackupFailure/aws-docs/restore-job-running.json': 'a running restore is not a failure',
  'onBackupFailure/aws-docs/restore-job-completed.json': 'a completed restore is not a failure',
  'onBackupFailure/aws-docs/restore-job-pending.json': 'a pending restore is not a failure',
  'onBackupFailure/aws-docs/restore-job-created.json': 'a created restore is not a failure',
  'onCloudTrail/aws-docs/records/ec2-start-instances.json': 'StartInstances is not a watched call',
  'onCloudTrail/aws-docs/records/cloudtrail-update-trail-not-found.json':
    'a failed call (TrailNotFoundException, not a refusal) changed nothing',
  'onCloudTrail/aws-docs/records/iam-user-check-mfa-one-device-type.json':
    'CheckMfa is a step of a sign-in, not a watched call, and the IAM user is not root',
  'onCloudTrail/aws-docs/records/iam-user-check-mfa-several-device-types.json':
    'CheckMfa is a step of a sign-in, not a watched call, and the IAM user is not root',
  'onCloudTrail/evidence/backup-vault-lock-set.json':
    'PutBackupVaultLockConfiguration protects backups: not a watched call',
  'onCloudTrail/evidence/rds-activity-stream-started.json': 'StartActivityStream is not a watched call',
  'onCloudTrail/near-misses/access-analyzer-created.json':
    'CreateAnalyzer turns tooling on: not a watched call (a near miss)',
  'onCloudTrail/near-misses/account-get-region-opt-status.json':
    'GetRegionOptStatus is a read, not a watched call (a near miss)',
  'onCloudTrail/near-misses/bedrock-invocation-logging-put.json':
    'PutModelInvocationLoggingConfiguration turns logging on: not a watched call (a near miss)',
  'onCloudTrail/near-misses/ec2-ebs-default-encryption-enabled.json':
    'EnableEbsEncryptionByDefault is not a watched call (a near miss)',
  'onCloudTrail/near-misses/ec2-get-console-output.json':
    'GetConsoleOutput is a read, not a watched call (a near miss)',
  'onCloudTrail/near-misses/iam-create-user-already-exists.json':
    'a failed call (EntityAlreadyExists, not a refusal) changed nothing (a near miss)',
  'onCloudTrail/near-misses/inspector-enabled.json':
    'Enable turns Inspector on: not a watched call (a near miss)',
  'onCloudTrail/near-misses/rds-automated-backup-delete-not-found.json':
    'a failed call (DBInstanceAutomatedBackupNotFound, not a refusal) changed nothing (a near miss)',
  'onCloudTrail/near-misses/route53resolver-query-log-associated.json':
    'AssociateResolverQueryLogConfig turns logging on: not a watched call (a near miss)',
  'onCloudTrail/near-misses/route53resolver-query-log-config-delete-not-found.json':
    'a failed call (ResourceNotFound, not a refusal) changed nothing (a near miss)',
  'onCloudTrail/near-misses/securityhub-enabled.json':
    'EnableSecurityHub is not a watched call (a near miss)',
  'onCloudTrail/near-misses/sts-get-federation-token.json':
    'GetFederationToken is not a watched call (a near miss)',
  'onCloudTrail/near-misses/wafv2-web-acl-associated.json':
    'AssociateWebACL is not a watched call (a near miss)',
};

export { ROUTED_BUT_REFUSED } from '../../tools/local/routedButRefused.ts';
