import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

/**
 * The read-only calls the read-only rule delivers, through the handler with every AWS client mocked:
 * a scanner's key check, a password data read and a secret read by an unlisted principal page once,
 * with who and what; nothing is read from AWS to decide them.
 */

const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
const cloudtrail = aws.of(CloudTrailClient);
const _dynamodb = aws.of(DynamoDBClient);
const _documents = aws.of(DynamoDBDocumentClient);
let handler: typeof import('#functions/onCloudTrail/handler.ts').handler;
let resetTrailLogBuckets: typeof import('#functions/onCloudTrail/trailLogBuckets.ts').resetTrailLogBucketsForTests;

type Raw = { id: string; account: string; region: string; detail: { eventID: string } };
const fixture = (name: string) => loadFixture<Raw>(`onCloudTrail/readonly/${name}.json`);
const invoke = (event: Raw) =>
  handler(
    event as never,
    makeContext('ops-autopilot-dev-onCloudTrail', { account: event.account, region: event.region }),
  ) as Promise<PipelineResult>;
const pages = () =>
  sns.commandCalls(PublishCommand).map((c) => ({
    subject: c.args[0].input.Subject ?? '',
    body: c.args[0].input.Message ?? '',
  }));

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onCloudTrail/handler.ts'));
  ({ resetTrailLogBucketsForTests: resetTrailLogBuckets } = await import(
    '#functions/onCloudTrail/trailLogBuckets.ts'
  ));
});

beforeEach(() => {
  aws.reset();
  resetTrailLogBuckets();
  withoutKillSwitch(ssm);
  // An empty table (idempotency): every conditional write succeeds, nothing is in progress.
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  cloudtrail.on(DescribeTrailsCommand).resolves({
    trailList: [
      { Name: 'management-events', S3BucketName: 'sample-cloudtrail-bucket-name' },
      { Name: 'data-events', S3BucketName: 'example-data-event-logs' },
    ],
  });
  process.env.DRY_RUN = 'true';
  resetConfigForTests();
});

describe('onCloudTrail pages the read-only calls that matter', () => {
  it.each([
    [
      'sts-get-caller-identity-trufflehog',
      '[CRITICAL]',
      'verified by a secret scanner (TruffleHog): it has leaked',
    ],
    ['ec2-get-password-data', '[HIGH]', 'administrator password data of instance i-0a1b2c3d4e5f67890 read'],
    [
      'secretsmanager-batch-get-secret-value',
      '[HIGH]',
      'secret prod/db/password, prod/api/key read by arn:aws:iam::123456789012:role/stratus-red-team-ec2-get-password-data-role',
    ],
  ])('%s pages once as %s, with who', async (name, severity, what) => {
    // Act
    await invoke(fixture(name));
    // Assert
    const sent = pages();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject.startsWith(severity)).toBe(true);
    expect(sent[0]?.body).toContain(what);
    expect(sent[0]?.body).toContain(
      'by stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1729107121254489000',
    );
    expect(cloudtrail.calls()).toEqual([]);
  });

  it('pages nothing for GetCallerIdentity from the AWS CLI', async () => {
    // Act
    const result = await invoke(fixture('sts-get-caller-identity-cli'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.notes.map((n) => n.reason)).toEqual(['no-matching-rule']);
  });
});
