import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

// Handler layer, every AWS client mocked: the trust detections' public records end to end, as paged.
const onCloudTrail = await cloudTrailHandlerHarness();
const invoke = (fixture: string) => onCloudTrail.invoke(cloudTrailRecord(`trust/${fixture}`));
const { pages } = onCloudTrail;

describe('onCloudTrail trust detections, end to end on their public records', () => {
  it.each([
    [
      'iam-compromised-key-quarantine-v2',
      '[CRITICAL] cloudtrail.detection: IAM user test-user quarantined by AWS: an access key leaked',
      [
        'detection: compromised-key-quarantined',
        'policyArn: arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2',
      ],
    ],
    [
      'iam-update-assume-role-policy-anyone',
      '[CRITICAL] cloudtrail.detection: role (unreadable) now trusts anyone (*)',
      ['detection: role-trusts-outsider', 'sts:ExternalId'],
    ],
    [
      'rolesanywhere-create-trust-anchor',
      '[HIGH] cloudtrail.detection: IAM Roles Anywhere trust anchor laptop-ca created',
      ['detection: roles-anywhere-trust-created', 'sourceType: CERTIFICATE_BUNDLE'],
    ],
    [
      'lambda-add-permission-anyone',
      '[HIGH] cloudtrail.detection: function my-lambda-function invokable by anyone (principal *)',
      ['detection: lambda-invokable-by-anyone', 'grantedTo: *'],
    ],
  ])('pages %s once, saying who did what where', async (fixture, subject, lines) => {
    // Act
    await invoke(fixture);
    // Assert
    expect(pages().map((p) => p.subject)).toEqual([subject]);
    const body = pages()[0]?.body ?? '';
    // Who (the record's caller and address), where (account and region), and what.
    const { detail } = cloudTrailRecord(`trust/${fixture}`);
    for (const line of [
      ...lines,
      detail.userIdentity.arn,
      'Account 123456789012, region us-east-1',
      `sourceIPAddress: ${detail.sourceIPAddress}`,
    ]) {
      expect(body).toContain(line);
    }
  });

  it.each([
    'console-sign-in-saml-okta',
    'console-sign-in-identity-center-sso',
    's3-public-access-block-no-configuration',
    'iam-update-assume-role-policy-service',
    'lambda-add-permission-no-principal',
    'lambda-function-url-auth-iam',
  ])('sends no page for %s', async (fixture) => {
    // Act
    await invoke(fixture);
    // Assert
    expect(pages()).toEqual([]);
  });
});
