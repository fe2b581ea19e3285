import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

/** One record per detection of issue 18's evidence group through the handler: it pages who, what and where. */

const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
let onCloudTrail: typeof import('#functions/onCloudTrail/handler.ts').handler;

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'true';
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

async function run(name: string) {
  const event = loadFixture<{ account: string; region: string }>(`onCloudTrail/evidence/${name}.json`);
  const context = makeContext('ops-autopilot-dev-onCloudTrail', {
    account: event.account,
    region: event.region,
  });
  const result = (await onCloudTrail(event as never, context)) as PipelineResult<{
    detection?: string;
    action: string;
  }>;
  return { result, pages: sns.commandCalls(PublishCommand).map((c) => c.args[0].input) };
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
    const record = loadFixture<{ detail: { userIdentity: { arn: string } } }>(
      `onCloudTrail/evidence/${name}.json`,
    );
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
