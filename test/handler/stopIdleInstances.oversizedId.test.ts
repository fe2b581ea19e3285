import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Found by an adversarial review (issue 6 item 11).
// On the other handler: onAlarm bounds its event id (1 to 128 printable
// ASCII), but the scheduled shape of stopIdleInstances takes Powertools' EventBridgeSchema as is
// (`id: z.string()`, no bound). Its id becomes part of every state-table key (stop list, page record,
// action log). DynamoDB refuses partition keys over 2048 bytes (moto only checks this on PutItem, so the
// table is a mock that enforces it on every call): an id whose stop-list key fits but whose page key
// does not passes validation, stops and tags instances, and can never page them.

const aws = await mockAwsClients();
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const dynamodb = aws.of(DynamoDBClient);
const documents = aws.of(DynamoDBDocumentClient);
let handler: typeof import('#functions/stopIdleInstances/handler.ts').handler;

const MAX_KEY_BYTES = 2048;
function checkKey(id: unknown): void {
  if (Buffer.byteLength(String(id)) > MAX_KEY_BYTES) {
    throw Object.assign(
      new Error(
        'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes',
      ),
      { name: 'ValidationException' },
    );
  }
}

/** Every instance answers 1 (% CPU, bytes of network) every hour: idle. */
const idleMetrics = hourlyMetricAnswer(() => 1);

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/stopIdleInstances/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0abc1234def567890',
            InstanceType: 't3.large',
            State: { Name: 'running', Code: 16 },
            RootDeviceType: 'ebs',
            Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
          },
        ],
      },
    ],
  });
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiStop: { Value: false } });
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  cloudwatch.on(GetMetricDataCommand).callsFake(idleMetrics);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  dynamodb.resolves({});
  // An empty state table that, like DynamoDB, refuses keys over 2048 bytes on every call.
  documents.on(GetCommand).callsFake((input) => {
    checkKey(input.Key?.id);
    return {};
  });
  documents.on(PutCommand).callsFake((input) => {
    checkKey(input.Item?.id);
    return {};
  });
  documents.on(UpdateCommand).callsFake((input) => {
    checkKey(input.Key?.id);
    return { Attributes: { repeats: 0 } };
  });
  documents.on(BatchWriteCommand).callsFake((input: BatchWriteCommandInput) => {
    for (const items of Object.values(input.RequestItems ?? {}))
      for (const r of items) checkKey(r.PutRequest?.Item?.id);
    return {};
  });
});

describe('a scheduled-shaped event with an oversized id', () => {
  it('is refused before any AWS call, as onAlarm refuses one; today it stops an instance and never pages it', async () => {
    // Arrange: an id of 2020 characters (the stop list's key fits in 2048 bytes, the page's does not).
    const event = { ...loadFixture('stopIdleInstances/scheduled-event.json'), id: 'x'.repeat(2020) };
    // Act
    const error = await handler(event as never, makeContext('stopIdleInstances')).catch((e: unknown) => e);
    // Assert
    const stops = ec2.commandCalls(StopInstancesCommand).length;
    const pages = sns.commandCalls(PublishCommand).length;
    expect({ error: (error as Error | undefined)?.name, stops, pages }).toEqual({
      error: 'InvalidEventError',
      stops: 0,
      pages: 0,
    });
  });
});
