import { describe, expect, it } from 'vitest';
import { detect } from '#functions/onCloudTrail/detections.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { CATALOGUE, DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import {
  type CloudTrailRecord,
  type CloudTrailRecordOverrides,
  cloudTrailRecord,
} from '../support/events/index.ts';

type Raw = CloudTrailRecord;
const fixture = (name: string, overrides: CloudTrailRecordOverrides = {}) =>
  cloudTrailRecord(`records/${name}`, overrides);
const parse = (raw: unknown) => CloudTrailEvent.parse(raw);

/** The stage's decision on one record: the deciding detection and page, record or none. */
function decide(raw: Raw, overrides: Parameters<typeof makeConfig>[0] = {}) {
  const config = makeConfig(overrides);
  const event = parse(raw);
  const site = { requestId: 'r-1', account: event.account, region: event.region };
  const observation = observeCloudTrail(event, { config, site });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return { plan, observation, decision: [plan.findings?.detection ?? null, plan.findings?.action] };
}
const found = (raw: Raw) => detect(parse(raw), DETECTION_NAMES);

describe('onCloudTrail review records (issue 18 item 2), on real records', () => {
  it.each([
    ['iam-create-user', 'iam-user-created', 'IAM user new-user created'],
    [
      'iam-create-access-key-other-user',
      'credentials-for-another-user',
      'an access key created for IAM user user2',
    ],
    [
      'iam-update-login-profile-other-user',
      'credentials-for-another-user',
      'the console password changed for IAM user bob',
    ],
    ['iam-create-saml-provider', 'identity-provider-change', 'CreateSAMLProvider'],
    ['sso-create-account-assignment', 'identity-provider-change', 'Identity Center CreateAccountAssignment'],
    [
      'lambda-update-function-code',
      'lambda-code-or-configuration-change',
      'Lambda function production-api: code updated',
    ],
    [
      'lambda-update-configuration-layers',
      'lambda-code-or-configuration-change',
      'Lambda function production-api: configuration updated',
    ],
    // Panther's record names instance `i-012345abcde`, not an EC2 instance id: shown as unreadable.
    [
      'ec2-modify-instance-user-data',
      'instance-user-data-change',
      'user data of instance (unreadable) replaced',
    ],
    ['ssm-send-command', 'remote-command-or-task-definition', 'SSM AWS-RunShellScript sent to 1 instance(s)'],
    [
      'ssm-create-document',
      'remote-command-or-task-definition',
      'SSM document run-maintenance: CreateDocument',
    ],
    [
      'ecs-register-task-definition',
      'remote-command-or-task-definition',
      'ECS task definition web-worker registered',
    ],
    [
      'ec2-instance-connect-send-ssh-key',
      'instance-connect-key-sent',
      'SSH key pushed to instance i-abcdef01234567890',
    ],
    [
      'kms-put-key-policy',
      'kms-key-policy-change',
      'policy of KMS key 1234abcd-12ab-34cd-56ef-1234567890ab replaced',
    ],
    ['ec2-create-traffic-mirror-target', 'traffic-mirroring-change', 'CreateTrafficMirrorTarget'],
    ['ec2-create-traffic-mirror-filter', 'traffic-mirroring-change', 'CreateTrafficMirrorFilter'],
    ['account-enable-region', 'region-opt-in-change', 'region us-west-2 enabled'],
    [
      'signin-get-signin-token',
      'console-federation-token',
      'console sign-in token issued for temporary credentials',
    ],
    ['bedrock-update-guardrail', 'bedrock-guardrail-change', 'Bedrock guardrail cmy5azq5koeo updated'],
    ['bedrock-delete-guardrail', 'bedrock-guardrail-change', 'Bedrock guardrail cmy5azq5koeo deleted'],
    ['rds-delete-db-snapshot', 'rds-snapshot-copied-or-deleted', 'RDS snapshot backup-2024-01-15 deleted'],
    [
      'rds-delete-db-cluster-snapshot',
      'rds-snapshot-copied-or-deleted',
      'RDS snapshot aurora-cluster-backup-2024 deleted',
    ],
    ['rds-copy-db-snapshot', 'rds-snapshot-copied-or-deleted', 'RDS snapshot prod-backup-2024-copy copied'],
    [
      's3-delete-bucket-encryption',
      's3-bucket-encryption-removed',
      'default encryption of bucket sensitive-data-bucket deleted',
    ],
  ])('%s is recorded as %s, not paged: "%s"', (name, detection, what) => {
    // Act
    const { decision, plan } = decide(fixture(name));
    // Assert
    expect(decision).toEqual([detection, 'record']);
    expect(plan.intents.filter((i) => i.kind === 'sns.page')).toEqual([]);
    expect(plan.notes.map((n) => n.detail).join('\n')).toContain(what);
  });

  it.each([
    // The near misses: the caller's own key, a call of the same service that changes nothing watched,
    // a failed call.
    ['iam-create-access-key-own', 'credentials-for-another-user'],
    ['iam-list-access-keys', 'identity-provider-change'],
    ['lambda-delete-function', 'lambda-code-or-configuration-change'],
    ['ec2-describe-instances', 'remote-command-or-task-definition'],
    ['ec2-instance-connect-send-ssh-key-failed', 'instance-connect-key-sent'],
    ['ec2-describe-traffic-mirror-targets', 'traffic-mirroring-change'],
    ['bedrock-list-guardrails', 'bedrock-guardrail-change'],
    ['signin-get-signin-token-sso-portal', 'nothing else than console-federation-token'],
    ['rds-create-db-snapshot', 'rds-snapshot-copied-or-deleted'],
    ['s3-put-bucket-encryption', 's3-bucket-encryption-removed'],
  ])('%s is not %s', (name, detection) => {
    // Act
    const names = found(fixture(name)).map((f) => f.detection);
    // Assert
    if (detection.startsWith('nothing else than ')) {
      expect(names).toEqual([detection.replace('nothing else than ', '')]);
    } else {
      expect(names).not.toContain(detection);
    }
  });

  it('records ModifyInstanceAttribute only when it replaces user data, not the instance type', () => {
    // Arrange: Panther's own near miss, the same call changing `instanceType`.
    const typeChange = fixture('ec2-modify-instance-user-data', {
      requestParameters: {
        instanceId: 'i-0123456789abcdef0',
        instanceType: { value: 't3.nano' },
      },
    });
    // Act
    const names = found(typeChange).map((f) => f.detection);
    // Assert
    expect(names).not.toContain('instance-user-data-change');
  });

  it('treats a role session named like the user as someone else: a session name is the caller’s choice', () => {
    // Arrange: the role session `IAM/bob` changes bob's password.
    const bySession = fixture('iam-update-login-profile-other-user', {
      userIdentity: { arn: 'arn:aws:sts::123456789012:assumed-role/IAM/bob' },
    });
    // Act
    const names = found(bySession).map((f) => f.detection);
    // Assert
    expect(names).toContain('credentials-for-another-user');
  });

  it('says an SSM command sent by tag went to its targets, not to no instance', () => {
    // Arrange: SendCommand may name instances by tag instead of by id (its `targets`).
    const byTag = fixture('ssm-send-command', {
      requestParameters: {
        documentName: 'AWS-RunShellScript',
        targets: [{ key: 'tag:Role', values: ['web'] }],
      },
    });
    // Act
    const [finding] = found(byTag);
    // Assert
    expect(finding?.what).toBe('SSM AWS-RunShellScript sent to the instances its targets select');
  });

  it('shows a crafted identifier as unreadable, never verbatim on the page line', () => {
    // Arrange
    const crafted = fixture('rds-delete-db-snapshot', {
      requestParameters: { dBSnapshotIdentifier: 'x\u202e<script>alert(1)</script>' },
    });
    // Act
    const [finding] = found(crafted);
    // Assert
    expect(finding?.what).toBe('RDS snapshot (unreadable) deleted');
  });

  it('pages a review record on a stage that asks for it, with who, what and where', () => {
    // Act
    const { plan } = decide(fixture('iam-create-access-key-other-user'), {
      cloudTrail: { detections: { 'credentials-for-another-user': { action: 'page' } } },
    });
    // Assert
    const page = plan.intents.find((i) => i.kind === 'sns.page');
    expect(JSON.stringify(page)).toContain('an access key created for IAM user user2');
  });

  it('records every review detection by default, and none of them pages or remediates', () => {
    // Act
    const review = [
      'iam-user-created',
      'credentials-for-another-user',
      'identity-provider-change',
      'lambda-code-or-configuration-change',
      'instance-user-data-change',
      'remote-command-or-task-definition',
      'instance-connect-key-sent',
      'kms-key-policy-change',
      'traffic-mirroring-change',
      'region-opt-in-change',
      'console-federation-token',
      'bedrock-guardrail-change',
      'rds-snapshot-copied-or-deleted',
      's3-bucket-encryption-removed',
    ] as const;
    // Assert
    for (const name of review) {
      expect(CATALOGUE[name], name).toMatchObject({ action: 'record', severity: 'info' });
      expect(CATALOGUE[name], name).not.toHaveProperty('remediations');
    }
  });
});
