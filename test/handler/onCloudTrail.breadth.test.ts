import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

/**
 * The breadth detections (docs/detection-coverage.md) through the handler, every AWS client mocked: a
 * page says who did what, where; a record is in the action log and pages no one.
 */

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

type Envelope = {
  account: string;
  region: string;
  detail: { eventID: string; userIdentity: { arn: string } };
};

async function run(name: string) {
  const event = loadFixture<Envelope>(`onCloudTrail/breadth/${name}.json`);
  const context = makeContext('ops-autopilot-dev-onCloudTrail', {
    account: event.account,
    region: event.region,
  });
  const result = (await onCloudTrail(event as never, context)) as PipelineResult<{
    detection?: string;
    action: string;
  }>;
  return {
    event,
    result,
    logged: aws.actionLog(),
    pages: sns.commandCalls(PublishCommand).map((c) => c.args[0].input),
  };
}

describe('onCloudTrail pages the breadth detections with who, what and where', () => {
  it.each([
    [
      'cloudtrail-update-trail-validation-off',
      'cloudtrail-tampering',
      'trail arn:aws:cloudtrail:us-east-1:123456789012:trail/example-trail updated: log file validation turned off',
    ],
    [
      'config-delete-delivery-channel',
      'config-recorder-stopped',
      'AWS Config delivery channel default deleted',
    ],
    ['guardduty-create-detector-disabled', 'guardduty-disabled', 'GuardDuty detector created disabled'],
    [
      'kms-delete-imported-key-material',
      'kms-key-disabled',
      'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab imported key material deleted',
    ],
    ['eks-control-plane-logging-off', 'logs-deleted', 'EKS cluster prod control-plane logging turned off'],
    [
      'ec2-create-traffic-mirror-session',
      'traffic-mirror-session-started',
      'traffic of eni-0c61fbc84fca4138f mirrored',
    ],
    [
      'route53-domain-transferred',
      'domain-transferred-out',
      'domain example.com transferred to account 444455556666',
    ],
    [
      'identity-center-external-idp-disabled',
      'identity-center-source-changed',
      "Identity Center's identity source changed",
    ],
    [
      'eks-associate-cluster-admin-policy',
      'eks-cluster-admin-granted',
      'AmazonEKSClusterAdminPolicy granted',
    ],
    [
      'ssm-document-shared-publicly',
      'ssm-document-shared-out',
      'SSM document patch-and-reboot shared with all AWS accounts',
    ],
  ])('pages %s once as %s', async (name, detection, what) => {
    // Act
    const { event, result, pages } = await run(name);
    // Assert
    expect(result.findings).toEqual({ detection, action: 'page' });
    expect(pages).toHaveLength(1);
    // What, in the subject and the body; who (the caller's ARN) and where (account and region) in the body.
    expect(pages[0]?.Subject).toContain(what.slice(0, 40));
    expect(pages[0]?.Message).toContain(what);
    expect(pages[0]?.Message).toContain(`detection: ${detection}`);
    expect(pages[0]?.Message).toContain(event.detail.userIdentity.arn);
    expect(pages[0]?.Message).toContain('Account 123456789012, region us-east-1');
  });
});

describe('onCloudTrail records the breadth records and pages no one', () => {
  it.each([
    ['logs-delete-log-group', 'monitoring-deleted', 'CloudWatch Logs log group /aws/lambda/payments deleted'],
    ['s3-delete-bucket', 'data-store-deleted', 'S3 bucket secrets deleted'],
    ['dynamodb-export-table', 'data-copied-out', 'exported to S3 bucket exports-444455556666'],
    ['ssm-start-session', 'access-path-opened', 'SSM session started on i-0123456789abcdef0'],
    ['iam-deactivate-mfa-device', 'account-guardrail-weakened', 'MFA device of IAM user alice deactivated'],
  ])('records %s as %s, with what and who', async (name, detection, what) => {
    // Act
    const { event, result, logged, pages } = await run(name);
    // Assert
    expect(result.findings).toEqual({ detection, action: 'record' });
    expect(pages).toEqual([]);
    const entry = logged.find((item) =>
      String(item.detail).includes(`detection ${detection} is set to record`),
    );
    expect(entry?.detail).toContain(what);
    expect(entry?.incidentKey).toBe(`cloudtrail:${event.account}:${event.detail.eventID}`);
  });
});
