import { describe, expect, it } from 'vitest';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

/**
 * Detection breadth: the categories the public rule sets (Sigma, Panther, Elastic, CIS) detect that the
 * catalogue missed or recorded where they alert (docs/detection-coverage.md). Each has a positive record
 * and a near miss from events/onCloudTrail/breadth/.
 */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
type Raw = Record<string, unknown> & { detail: Record<string, unknown> & { requestParameters: unknown } };
const fixture = (name: string) => loadFixture<Raw>(`onCloudTrail/breadth/${name}.json`);

function decide(raw: unknown) {
  const config = makeConfig({});
  const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return {
    signal: observation.signal,
    decision: [plan.findings?.detection ?? null, plan.findings?.action],
    pages: plan.intents.filter((i) => i.kind === 'sns.page').length,
    notes: plan.notes.map((n) => n.detail).join('\n'),
  };
}

describe('monitoring blinded or recovery destroyed: paged', () => {
  it.each([
    [
      'cloudtrail-update-trail-validation-off',
      'cloudtrail-tampering',
      'trail arn:aws:cloudtrail:us-east-1:123456789012:trail/example-trail updated: log file validation turned off, multi-region logging turned off',
    ],
    [
      'config-delete-delivery-channel',
      'config-recorder-stopped',
      'AWS Config delivery channel default deleted',
    ],
    ['guardduty-create-detector-disabled', 'guardduty-disabled', 'GuardDuty detector created disabled'],
    [
      'guardduty-disassociate-from-administrator',
      'guardduty-disabled',
      'GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 disassociated from its administrator account',
    ],
    [
      'kms-delete-imported-key-material',
      'kms-key-disabled',
      'KMS key 1234abcd-12ab-34cd-56ef-1234567890ab imported key material deleted',
    ],
    [
      'eks-control-plane-logging-off',
      'logs-deleted',
      'EKS cluster prod control-plane logging turned off: api, audit, authenticator',
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
    // A trail update that keeps validation on and changes only its prefix turns nothing off.
    ['cloudtrail-update-trail-prefix', 'cloudtrail-change'],
    // A delivery channel created is Config being set up, not taken down.
    ['config-put-delivery-channel', 'config-change'],
    // GuardDuty created enabled, EKS logging turned on: nothing blinded.
    ['guardduty-create-detector-enabled', null],
    ['eks-control-plane-logging-on', null],
  ])('records or ignores the near miss %s (%s), never pages it', (name, detection) => {
    // Act
    const { decision, pages } = decide(fixture(name));
    // Assert
    expect(pages).toBe(0);
    expect(decision[0]).toBe(detection);
  });
});

describe('an attacker acting now: access, traffic and domains taken, paged', () => {
  it.each([
    [
      'ec2-create-traffic-mirror-session',
      'traffic-mirror-session-started',
      'traffic of eni-0c61fbc84fca4138f mirrored to target tmt-0fd4b591901182794',
    ],
    [
      'identity-center-external-idp-disabled',
      'identity-center-source-changed',
      "Identity Center's identity source changed: DisableExternalIdPConfigurationForDirectory",
    ],
    [
      'eks-associate-cluster-admin-policy',
      'eks-cluster-admin-granted',
      'EKS cluster prod: AmazonEKSClusterAdminPolicy granted to arn:aws:iam::123456789012:role/contractor',
    ],
    [
      'route53-domain-transferred',
      'domain-transferred-out',
      'domain example.com transferred to account 444455556666',
    ],
    [
      'ssm-document-shared-publicly',
      'ssm-document-shared-out',
      'SSM document patch-and-reboot shared with all AWS accounts',
    ],
  ])('pages %s as %s: "%s"', (name, detection, what) => {
    // Act
    const { decision, signal, pages } = decide(fixture(name));
    // Assert
    expect(decision).toEqual([detection, 'page']);
    expect(pages).toBe(1);
    expect(signal.title).toBe(what);
  });

  it('records, not pages, an EKS access policy that is not an administrator one', () => {
    // Act
    const { decision, pages } = decide(fixture('eks-associate-view-policy'));
    // Assert
    expect(pages).toBe(0);
    expect(decision).toEqual(['access-path-opened', 'record']);
  });

  it('pages an SSM document shared with an outside account, and not one shared with this account', () => {
    // Arrange
    const outside = fixture('ssm-document-shared-to-own-account');
    (outside.detail.requestParameters as Record<string, unknown>).accountIdsToAdd = [
      '444455556666',
      'not-an-account',
    ];
    // Act
    const foreign = decide(outside);
    const own = decide(fixture('ssm-document-shared-to-own-account'));
    // Assert
    expect(foreign.decision).toEqual(['ssm-document-shared-out', 'page']);
    expect(foreign.signal.title).toBe('SSM document patch-and-reboot shared with account 444455556666');
    expect(foreign.signal.evidence.unreadableGrantees).toBe('1');
    expect(own.pages).toBe(0);
    expect(own.decision[0]).not.toBe('ssm-document-shared-out');
  });

  it('keeps a traffic mirror target, which copies nothing on its own, recorded', () => {
    // Act
    const { decision, pages } = decide(
      loadFixture('onCloudTrail/records/ec2-create-traffic-mirror-target.json'),
    );
    // Assert
    expect(decision).toEqual(['traffic-mirroring-change', 'record']);
    expect(pages).toBe(0);
  });
});

describe('what an incident review needs: recorded, not paged', () => {
  it('records an account closed as an organizations change', () => {
    // Arrange: the organizations record of this folder's near misses, as CloseAccount.
    const raw = loadFixture<Raw>('onCloudTrail/organizations-leave.json');
    raw.detail.eventName = 'CloseAccount';
    raw.detail.requestParameters = { accountId: '444455556666' };
    // Act
    const { decision, pages } = decide(raw);
    // Assert
    expect(decision).toEqual(['organizations-change', 'record']);
    expect(pages).toBe(0);
  });

  it.each([
    ['logs-delete-log-group', 'monitoring-deleted', 'CloudWatch Logs log group /aws/lambda/payments deleted'],
    ['events-disable-rule', 'monitoring-deleted', 'EventBridge rule guardduty-findings-to-pager disabled'],
    ['s3-delete-bucket', 'data-store-deleted', 'S3 bucket secrets deleted'],
    [
      'rds-instance-deleted-with-final-snapshot',
      'data-store-deleted',
      'RDS instance production-mysql-db deleted (final snapshot production-mysql-db-final-snapshot-2024-01-15)',
    ],
    ['dynamodb-delete-table', 'data-store-deleted', 'DynamoDB table orders deleted'],
    ['efs-delete-file-system', 'data-store-deleted', 'EFS file system fs-0123456789abcdef0 deleted'],
    ['ssm-start-session', 'access-path-opened', 'SSM session started on i-0123456789abcdef0'],
    ['ec2-import-key-pair', 'access-path-opened', 'EC2 key pair laptop imported'],
    ['iam-deactivate-mfa-device', 'account-guardrail-weakened', 'MFA device of IAM user alice deactivated'],
    [
      'dynamodb-export-table',
      'data-copied-out',
      'DynamoDB table arn:aws:dynamodb:us-east-1:123456789012:table/orders exported to S3 bucket exports-444455556666 of account 444455556666',
    ],
    [
      'sns-subscribe-email',
      'data-copied-out',
      'SNS topic arn:aws:sns:us-east-1:123456789012:security-alerts subscribed by email',
    ],
  ])('records %s as %s: "%s"', (name, detection, what) => {
    // Act
    const { decision, pages, notes } = decide(fixture(name));
    // Assert
    expect(decision).toEqual([detection, 'record']);
    expect(pages).toBe(0);
    expect(notes).toContain(what);
  });

  it('ignores a subscription that delivers to a queue of this account', () => {
    // Act
    const { decision, pages } = decide(fixture('sns-subscribe-sqs-own-account'));
    // Assert
    expect(decision).toEqual([null, 'none']);
    expect(pages).toBe(0);
  });

  it('shows an SNS endpoint only by its protocol, never the address a caller typed', () => {
    // Arrange: a crafted endpoint must not reach a page line or the action log.
    const raw = fixture('sns-subscribe-email');
    (raw.detail.requestParameters as Record<string, unknown>).endpoint = 'x@example.net\nSubject: forged';
    // Act
    const { notes } = decide(raw);
    // Assert
    expect(notes).not.toContain('forged');
    expect(notes).toContain('subscribed by email');
  });
});
