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
 * A lifecycle rule that expires a CloudTrail log bucket's objects, through the handler with every AWS
 * client mocked: gather reads the trails (DescribeTrails, once per container within its TTL), the
 * record pages when the bucket is a trail's log bucket and is recorded otherwise.
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
const fixture = (name: string) => loadFixture<Raw>(`onCloudTrail/evidence/${name}.json`);
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
/** Another record of the same call: a new envelope and CloudTrail event id. */
const another = (raw: Raw): Raw => ({
  ...structuredClone(raw),
  id: crypto.randomUUID(),
  detail: { ...structuredClone(raw.detail), eventID: crypto.randomUUID() },
});

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

describe("onCloudTrail pages a lifecycle rule that expires a trail's log bucket", () => {
  it("pages a 1-day expiration on a trail's log bucket once, with the trail, the rule and who", async () => {
    // Act
    const result = await invoke(fixture('cloudtrail-log-bucket-expiry'));
    // Assert
    const sent = pages();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject.startsWith('[HIGH]')).toBe(true);
    expect(sent[0]?.body).toContain(
      'lifecycle rule expires objects of S3 bucket sample-cloudtrail-bucket-name',
    );
    expect(sent[0]?.body).toContain('log bucket of trail management-events');
    expect(sent[0]?.body).toContain('expiringRules: nuke-cloudtrail-logs-after-1-day (after 1 day)');
    expect(sent[0]?.body).toContain('by SampleRole/leroy.jenkins');
    expect(result.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'page' });
  });

  it('records the same rule on a bucket no trail logs to, without a page', async () => {
    // Act
    const result = await invoke(fixture('lifecycle-expiry-unrelated-bucket'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'record' });
    expect(result.notes[0]?.detail).toContain(
      'example-reports is the log bucket of no trail of this account',
    );
  });

  it('records a transition-only rule on the log bucket as a bucket change, without reading the trails', async () => {
    // Act
    const result = await invoke(fixture('cloudtrail-log-bucket-transition-only'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.findings).toEqual({ detection: 's3-bucket-policy-change', action: 'record' });
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)).toEqual([]);
  });

  it('reads the trails once for two records in one container within the TTL', async () => {
    // Act
    await invoke(fixture('cloudtrail-log-bucket-expiry'));
    await invoke(another(fixture('lifecycle-expiry-unrelated-bucket')));
    // Assert
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)).toHaveLength(1);
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)[0]?.args[0].input).toEqual({
      includeShadowTrails: true,
    });
  });

  it('pages when DescribeTrails is refused, saying the trails could not be read', async () => {
    // Arrange
    cloudtrail.on(DescribeTrailsCommand).rejects(new Error('not authorized to DescribeTrails'));
    // Act
    await invoke(fixture('lifecycle-expiry-unrelated-bucket'));
    // Assert
    expect(pages()).toHaveLength(1);
    expect(pages()[0]?.body).toContain('could not read the trails');
  });
});
