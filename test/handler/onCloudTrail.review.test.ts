import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

// onCloudTrail end to end on the review records (issue 18 item 2): every AWS client mocked.
const onCloudTrail = await cloudTrailHandlerHarness();

/** The record in its own account and region, and what the action log kept of it. */
async function run(name: string) {
  const event = cloudTrailRecord(`records/${name}`);
  const result = await onCloudTrail.invoke<{ detection?: string; action: string }>(event);
  const logged = onCloudTrail.aws.actionLog();
  return { event, result, logged, pages: onCloudTrail.published() };
}

describe('onCloudTrail review records through the handler', () => {
  it.each([
    ['iam-create-user', 'iam-user-created', 'IAM user new-user created', 'by tester'],
    ['iam-create-access-key-other-user', 'credentials-for-another-user', 'for IAM user user2', 'by user1'],
    ['iam-create-saml-provider', 'identity-provider-change', 'CreateSAMLProvider', 'by role/account'],
    [
      'lambda-update-function-code',
      'lambda-code-or-configuration-change',
      'production-api: code updated',
      'by john.developer',
    ],
    [
      'ec2-modify-instance-user-data',
      'instance-user-data-change',
      'user data of instance',
      'by Role-us-1/CodeBuild',
    ],
    [
      'ssm-send-command',
      'remote-command-or-task-definition',
      'SSM AWS-RunShellScript sent',
      'by SampleRole/bobson.dugnutt',
    ],
    [
      'ec2-instance-connect-send-ssh-key',
      'instance-connect-key-sent',
      'i-abcdef01234567890',
      'by SampleRole/bobson.dugnutt',
    ],
    ['kms-put-key-policy', 'kms-key-policy-change', 'policy of KMS key', 'by Alice'],
    [
      'ec2-create-traffic-mirror-target',
      'traffic-mirroring-change',
      'CreateTrafficMirrorTarget',
      'by MakeStuffPublic',
    ],
    ['account-enable-region', 'region-opt-in-change', 'region us-west-2 enabled', 'by Alice'],
    [
      'signin-get-signin-token',
      'console-federation-token',
      'console sign-in token issued',
      'by MyRole/session',
    ],
    ['bedrock-delete-guardrail', 'bedrock-guardrail-change', 'cmy5azq5koeo deleted', 'by DevAdmin/dr.evil'],
    [
      'rds-delete-db-cluster-snapshot',
      'rds-snapshot-copied-or-deleted',
      'aurora-cluster-backup-2024 deleted',
      'by contractor',
    ],
    [
      's3-delete-bucket-encryption',
      's3-bucket-encryption-removed',
      'sensitive-data-bucket',
      'by sample-role-dreamy-yonath/',
    ],
  ])(
    'records %s as %s in the action log, with what and who, and pages no one',
    async (name, detection, what, by) => {
      // Act
      const { event, result, logged, pages } = await run(name);
      // Assert
      expect(result.findings).toEqual({ detection, action: 'record' });
      expect(pages).toEqual([]);
      const entry = logged.find((item) =>
        String(item.detail).includes(`detection ${detection} is set to record`),
      );
      expect(entry?.detail).toContain(what);
      // Who did it, and where: the caller in the line, the record's account and id in the incident key.
      expect(entry?.detail).toContain(by);
      expect(entry?.incidentKey).toBe(`cloudtrail:${event.account}:${event.detail.eventID}`);
    },
  );
});
