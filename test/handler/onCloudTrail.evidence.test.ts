import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/** One record per detection of issue 18's evidence group through the handler: it pages who, what and where. */

const onCloudTrail = await cloudTrailHandlerHarness();

async function run(name: string) {
  const event = cloudTrailRecord(`evidence/${name}`);
  const result = await onCloudTrail.invoke<{ detection?: string; action: string }>(event);
  return { result, pages: onCloudTrail.published() };
}

describe('onCloudTrail pages the evidence group with who, what and where', () => {
  it.each([
    [
      'ecr-repository-policy-public',
      'resource-policy-public',
      'ECR repository community policy allows anyone',
    ],
    ['codebuild-project-public', 'codebuild-project-public', 'CodeBuild project testproject1234 made public'],
    ['s3-bucket-logging-off', 'logs-deleted', 'bucket critical-data-bucket server access logging turned off'],
    ['backup-vault-deleted', 'backups-destroyed', 'backup vault prod-vault deleted'],
    [
      'rds-instance-deletion-protection-off',
      'recovery-protection-off',
      'RDS instance production-mysql deletion protection turned off',
    ],
    ['securityhub-disabled', 'security-tooling-disabled', 'Security Hub disabled'],
    [
      'guardduty-filter-archive',
      'guardduty-findings-suppressed',
      'GuardDuty filter myFilter auto-archives findings',
    ],
  ])('pages %s once as %s', async (name, detection, what) => {
    // Arrange
    const record = cloudTrailRecord(`evidence/${name}`);
    // Act
    const { result, pages } = await run(name);
    // Assert
    expect(result.findings).toEqual({ detection, action: 'page' });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Subject).toContain(what);
    expect(pages[0]?.Message).toContain(`detection: ${detection}`);
    expect(pages[0]?.Message).toContain(record.detail.userIdentity.arn);
    expect(pages[0]?.Message).toContain('Account 123456789012, region us-east-1');
  });

  it('pages nothing for a policy narrowed by aws:PrincipalOrgID', async () => {
    // Act
    const { result, pages } = await run('kms-key-policy-org-narrowed');
    // Assert
    // Not public: recorded for review as a key policy change (detections/review.ts), never paged.
    expect(result.findings).toEqual({ detection: 'kms-key-policy-change', action: 'record' });
    expect(pages).toEqual([]);
  });
});
