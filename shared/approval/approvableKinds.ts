/**
 * The intent kinds an approved action may be (the keys of `approvableExecutors`,
 * shared/executors/approval.ts), without loading the executors: approveAction's role is derived from
 * them at package time, where the runtime is not loaded. test/unit/approveAction.role.test.ts fails when
 * the two lists differ, so a kind added there is added here and the role follows.
 */
export const APPROVABLE_KINDS: readonly string[] = [
  'ssm.start-automation',
  'ec2.revoke-ingress',
  's3.restore-public-access-block',
  'cloudtrail.start-logging',
  'ec2.revoke-share',
  'rds.revoke-snapshot-share',
  'backup.retry-job',
  'ec2.stop-instances',
];
