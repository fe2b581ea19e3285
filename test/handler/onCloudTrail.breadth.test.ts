import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { type CloudTrailRecord, cloudTrailRecord } from '../support/events/index.ts';

/**
 * The breadth detections (docs/detection-coverage.md) through the handler, every AWS client mocked: a
 * page says who did what, where; a record is in the action log and pages no one.
 */

const harness = await cloudTrailHandlerHarness();

async function run(name: string) {
  const event = cloudTrailRecord(`breadth/${name}`);
  const result = await harness.invoke<{ detection?: string; action: string }>(event);
  return {
    event: event as CloudTrailRecord & { detail: { eventID: string; userIdentity: { arn: string } } },
    result,
    logged: harness.aws.actionLog(),
    pages: harness.published(),
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
