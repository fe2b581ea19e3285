import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer, every AWS client mocked: the trust detections' public records end to end, as paged.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
let handler: typeof import('#functions/onCloudTrail/handler.ts').handler;

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onCloudTrail/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'true';
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const invoke = (fixture: string) => {
  const event = loadFixture<{ account: string; region: string }>(`onCloudTrail/trust/${fixture}.json`);
  return handler(event as never, makeContext(undefined, { account: event.account, region: event.region }));
};
const pages = () =>
  sns.commandCalls(PublishCommand).map((c) => ({
    subject: c.args[0].input.Subject ?? '',
    body: c.args[0].input.Message ?? '',
  }));

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
    const { detail } = loadFixture<{
      detail: { userIdentity: { arn: string }; sourceIPAddress: string };
    }>(`onCloudTrail/trust/${fixture}.json`);
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
