import { describe, expect, it } from 'vitest';
import { detect } from '#functions/onCloudTrail/detections.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

/** Issue 18's evidence group: resources made public, evidence and recovery destroyed, tooling silenced. */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const fixture = (name: string, overrides: CloudTrailRecordOverrides = {}) =>
  cloudTrailRecord(`evidence/${name}`, overrides);

function decide(raw: unknown) {
  const config = makeConfig({});
  const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return {
    signal: observation.signal,
    decision: [plan.findings?.detection ?? null, plan.findings?.action],
    pages: plan.intents.filter((i) => i.kind === 'sns.page').length,
  };
}

describe('resources other than S3 made public by a resource policy', () => {
  it.each([
    ['ecr-repository-policy-public', 'ECR repository community policy allows anyone'],
    ['sqs-queue-policy-public-beside-org', 'SQS queue (unreadable) policy allows anyone'],
    [
      'sns-topic-policy-public',
      'SNS topic arn:aws:sns:us-east-1:123456789012:deploy-events policy allows anyone',
    ],
    ['kms-key-policy-public', 'KMS key (unreadable) policy allows anyone'],
    ['kms-create-key-public', 'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab policy allows anyone'],
    ['elasticsearch-domain-public', 'OpenSearch domain (unreadable) policy allows anyone'],
    ['secretsmanager-policy-public', 'secret prod/db/password policy allows anyone'],
  ])('pages %s as resource-policy-public: "%s"', (name, what) => {
    // Act
    const { decision, signal, pages } = decide(fixture(name));
    // Assert
    expect(decision).toEqual(['resource-policy-public', 'page']);
    expect(pages).toBe(1);
    expect(signal.title).toBe(what);
    expect(signal.evidence.publicStatement).toMatch(/"Principal":("\*"|\{"AWS":"\*"\})/);
  });

  it.each([
    // A statement narrowed by aws:PrincipalOrgID (with aws:SourceVpc and a private source range).
    'secretsmanager-policy-narrowed',
    'secretsmanager-policy-org-narrowed',
    'kms-key-policy-org-narrowed',
    'ecr-repository-policy-org-narrowed',
    // A source IP range that is not the world narrows who, as S3's check reads it.
    'opensearch-domain-ip-narrowed',
    // An empty policy is unreadable: never "allows anyone".
    'sqs-queue-policy-empty',
    // Not the Policy attribute: its value is not read as a policy, whatever it says.
    'sns-topic-delivery-policy',
  ])('does not page %s: nothing public, or nothing readable as a policy', (name) => {
    // Act
    const found = detect(CloudTrailEvent.parse(fixture(name)), DETECTION_NAMES).map((f) => f.detection);
    // Assert
    expect(found).not.toContain('resource-policy-public');
    expect(decide(fixture(name)).pages).toBe(0);
  });

  it('reads the public statement among restrictive ones: the org-narrowed one does not hide the open one', () => {
    // Act
    const { signal } = decide(fixture('sqs-queue-policy-public-beside-org'));
    // Assert
    expect(signal.evidence.publicStatements).toBe('1');
    expect(signal.evidence.publicStatement).toContain('sqs:SendMessage');
  });

  it('pages a CodeBuild project made PUBLIC_READ, and not one made PRIVATE', () => {
    // Act
    const made = decide(fixture('codebuild-project-public'));
    const unmade = decide(fixture('codebuild-project-private'));
    // Assert
    expect(made.decision).toEqual(['codebuild-project-public', 'page']);
    expect(made.signal.title).toBe('CodeBuild project testproject1234 made public');
    expect(unmade.pages).toBe(0);
  });

  it('shows a crafted repository name as unreadable, never in the page', () => {
    // Arrange
    const crafted = fixture('ecr-repository-policy-public', {
      withRequestParameters: { repositoryName: 'x\n@everyone <a href=x>' },
    });
    // Act
    const { signal } = decide(crafted);
    // Assert
    expect(signal.title).toBe('ECR repository (unreadable) policy allows anyone');
  });
});

describe('evidence and recovery destroyed', () => {
  it.each([
    [
      'route53resolver-query-log-config-deleted',
      'logs-deleted',
      'Route 53 resolver query logging rqlc-5aa596fe3bd84ec6 deleted',
    ],
    [
      'route53resolver-query-log-disassociated',
      'logs-deleted',
      'Route 53 resolver query logging rqlc-5aa596fe3bd84ec6 disassociated from vpc-0a1b2c3d4e5f67890',
    ],
    ['s3-bucket-logging-off', 'logs-deleted', 'bucket critical-data-bucket server access logging turned off'],
    [
      'rds-activity-stream-stopped',
      'logs-deleted',
      'RDS database activity stream of production-aurora stopped',
    ],
    [
      'bedrock-invocation-logging-deleted',
      'logs-deleted',
      'Bedrock model-invocation logging deleted in us-east-1',
    ],
    [
      'rds-automated-backup-deleted',
      'backups-destroyed',
      'RDS automated backups of db-ABCDEF1234567890 deleted',
    ],
    [
      'rds-instance-deleted-without-final-snapshot',
      'backups-destroyed',
      'RDS instance customer-data-db deleted without a final snapshot',
    ],
    ['backup-vault-deleted', 'backups-destroyed', 'backup vault prod-vault deleted'],
    [
      'backup-recovery-point-deleted',
      'backups-destroyed',
      'recovery point arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0 in vault prod-vault deleted',
    ],
    ['backup-vault-lock-removed', 'backups-destroyed', 'backup vault prod-vault lock removed'],
    ['backup-plan-deleted', 'backups-destroyed', 'backup plan 8f2c4b1e-8b7d-4d7a-9a55-3f0e1c2d4b6a deleted'],
    [
      'backup-vault-access-policy-changed',
      'backups-destroyed',
      'backup vault prod-vault access policy changed',
    ],
    [
      'rds-instance-deletion-protection-off',
      'recovery-protection-off',
      'RDS instance production-mysql deletion protection turned off',
    ],
    [
      'rds-cluster-deletion-protection-off',
      'recovery-protection-off',
      'RDS cluster aurora-production deletion protection turned off',
    ],
    [
      's3-versioning-suspended',
      'recovery-protection-off',
      'bucket important-files-bucket versioning suspended',
    ],
    ['s3-mfa-delete-disabled', 'recovery-protection-off', 'bucket critical-data-bucket MFA delete disabled'],
  ])('pages %s as %s: "%s"', (name, detection, what) => {
    // Act
    const { decision, signal, pages } = decide(fixture(name));
    // Assert
    expect(decision).toEqual([detection, 'page']);
    expect(pages).toBe(1);
    expect(signal.title).toBe(what);
  });

  it('says on a backup vault page that onBackupFailure watches the same backups', () => {
    // Act
    const { signal } = decide(fixture('backup-vault-deleted'));
    // Assert
    expect(signal.evidence.note).toContain('onBackupFailure');
  });

  it.each([
    // Logging turned on, and a request whose logging status is missing: unknown, never "turned off".
    's3-bucket-logging-on',
    's3-bucket-logging-unreadable',
    'rds-activity-stream-started',
    'rds-cluster-deleted-with-final-snapshot',
    'rds-instance-deletion-protection-on',
    's3-versioning-enabled',
    's3-mfa-delete-enabled',
    // A vault lock set makes backups harder to delete, not easier.
    'backup-vault-lock-set',
  ])('does not page %s', (name) => {
    // Act
    const { pages, decision } = decide(fixture(name));
    // Assert
    expect(pages).toBe(0);
    expect(['logs-deleted', 'backups-destroyed', 'recovery-protection-off']).not.toContain(decision[0]);
  });

  it('never claims versioning suspended or deletion protection off from a value it cannot read', () => {
    // Arrange
    const versioning = fixture('s3-versioning-suspended', {
      requestParameters: {
        bucketName: 'important-files-bucket',
        VersioningConfiguration: 'Suspended',
      },
    });
    const protection = fixture('rds-instance-deletion-protection-off', {
      withRequestParameters: { deletionProtection: 'no' },
    });
    // Act / Assert
    expect(decide(versioning).pages).toBe(0);
    expect(decide(protection).pages).toBe(0);
  });
});

describe('security tooling silenced', () => {
  it.each([
    ['securityhub-disabled', 'security-tooling-disabled', 'Security Hub disabled'],
    ['securityhub-standards-disabled', 'security-tooling-disabled', 'Security Hub standards disabled (1)'],
    ['macie-session-paused', 'security-tooling-disabled', 'Macie paused'],
    ['access-analyzer-deleted', 'security-tooling-disabled', 'IAM Access Analyzer account-analyzer deleted'],
    ['inspector-disabled', 'security-tooling-disabled', 'Inspector disabled for EC2, ECR, LAMBDA'],
    [
      'wafv2-web-acl-disassociated',
      'security-tooling-disabled',
      'WAF web ACL disassociated from arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/84dc5457e450dba5',
    ],
    [
      'ec2-ebs-default-encryption-disabled',
      'security-tooling-disabled',
      'EBS encryption by default disabled in us-east-1',
    ],
    [
      'guardduty-filter-archive',
      'guardduty-findings-suppressed',
      'GuardDuty filter myFilter auto-archives findings',
    ],
    [
      'guardduty-ipset-created',
      'guardduty-findings-suppressed',
      'GuardDuty trusted IP list office-addresses created',
    ],
  ])('pages %s as %s: "%s"', (name, detection, what) => {
    // Act
    const { decision, signal, pages } = decide(fixture(name));
    // Assert
    expect(decision).toEqual([detection, 'page']);
    expect(pages).toBe(1);
    expect(signal.title).toBe(what);
  });

  it.each([
    // Macie's publishing frequency changed: the session still runs.
    'macie-session-updated-not-paused',
    // A NOOP filter only groups findings; it hides none.
    'guardduty-filter-noop',
  ])('does not page %s', (name) => {
    // Act
    const { pages, decision } = decide(fixture(name));
    // Assert
    expect(pages).toBe(0);
    expect(decision).toEqual([null, 'none']);
  });
});

describe('the evidence group against crafted call names', () => {
  it.each([
    ['aws.kms', 'kms.amazonaws.com'],
    ['aws.backup', 'backup.amazonaws.com'],
  ])(
    'matches nothing, and throws nothing, for %s calls named like Object.prototype members',
    (source, eventSource) => {
      // Arrange: the root branch delivers any call by root, whatever its name.
      const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
      const events = names.map((eventName) => {
        const raw = fixture('backup-vault-deleted', { source, eventSource, eventName });
        return CloudTrailEvent.parse(raw);
      });
      // Act
      const found = events.map((e) => detect(e, DETECTION_NAMES).map((f) => f.detection));
      // Assert
      expect(found).toEqual(names.map(() => []));
    },
  );
});
