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
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { loadFixture } from '../support/events.ts';
import { hourlyMetricAnswer } from '../support/fleet.ts';
import { withoutKillSwitch } from '../support/killSwitch.ts';
import { makeContext } from '../support/lambda.ts';

// A Lambda deadline, shortened: the handler must end cleanly and nothing may mutate after it ended.
// Only the kill switch's GetParameter: no parameter, so the stage decides.
const ssm = mockClient(SSMClient);
const ec2 = mockClient(EC2Client);
const cloudwatch = mockClient(CloudWatchClient);
const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBClient);
const documents = mockClient(DynamoDBDocumentClient);
let handler: typeof import('#functions/stopIdleInstances/handler.ts').handler;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const IDLE_ID = 'i-0abc1234def567890';

/** Every instance answers 1 (% CPU, bytes of network) every hour: idle. */
const idleMetrics = hourlyMetricAnswer(() => 1);

/** One opted-in idle instance, described after `describeDelayMs` (a slow or throttled EC2 API). */
function fleetAnsweringAfter(describeDelayMs: number) {
  ec2.on(DescribeInstancesCommand).callsFake(async () => {
    await sleep(describeDelayMs);
    return {
      Reservations: [
        {
          Instances: [
            {
              InstanceId: IDLE_ID,
              InstanceType: 't3.large',
              State: { Name: 'running', Code: 16 },
              RootDeviceType: 'ebs',
              LaunchTime: new Date(Date.now() - 30 * 86_400_000),
              Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
            },
          ],
        },
      ],
    };
  });
}

/** A context whose deadline is `ms` away, as Lambda's getRemainingTimeInMillis counts it. */
function contextWithDeadlineIn(ms: number) {
  const deadline = Date.now() + ms;
  return { ...makeContext('stopIdleInstances'), getRemainingTimeInMillis: () => deadline - Date.now() };
}

const mutations = () => [
  ...ec2.commandCalls(StopInstancesCommand),
  ...ec2.commandCalls(CreateTagsCommand),
  ...sns.commandCalls(PublishCommand),
];

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/stopIdleInstances/handler.ts'));
});

beforeEach(() => {
  for (const m of [ec2, cloudwatch, sns, dynamodb, documents]) m.reset();
  ssm.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  ec2.on(DescribeInstanceAttributeCommand).resolves({ DisableApiStop: { Value: false } });
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  cloudwatch.on(GetMetricDataCommand).callsFake(idleMetrics);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // An empty state table: every conditional write succeeds.
  dynamodb.resolves({});
  documents.on(GetCommand).resolves({});
  documents.on(PutCommand).resolves({});
  documents.on(UpdateCommand).resolves({ Attributes: { repeats: 0 } });
  documents.on(BatchWriteCommand).resolves({});
});

describe('an idle scan against its deadline', () => {
  it('stops the idle instance and pages when the invocation has time (control)', async () => {
    // Arrange
    fleetAnsweringAfter(0);
    // Act
    await handler(
      loadFixture('stopIdleInstances/scheduled-event.json') as never,
      contextWithDeadlineIn(60_000),
    );
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('fails with DeadlineExceeded when it runs out of time, and stops, tags and pages nothing afterwards', async () => {
    // Arrange: the fleet answers after the early timeout (deadline 1.3 s, middy gives up 1 s before it)
    fleetAnsweringAfter(700);
    // Act
    const error = await handler(
      loadFixture('stopIdleInstances/scheduled-event.json') as never,
      contextWithDeadlineIn(1_300),
    ).catch((e: unknown) => e);
    // Let the abandoned run reach the point where it would have acted.
    await sleep(1_200);
    // Assert
    expect((error as Error).name).toBe('DeadlineExceeded');
    expect((error as Error).message).toMatch(/stopIdleInstances ran out of time/);
    expect(mutations()).toHaveLength(0);
  });

  it('starts no stop when too little time is left to finish and record it', async () => {
    // Arrange: gather finishes in time, but with less left than the stop executor's budget
    fleetAnsweringAfter(0);
    // Act
    const error = await handler(
      loadFixture('stopIdleInstances/scheduled-event.json') as never,
      contextWithDeadlineIn(20_000),
    ).catch((e: unknown) => e);
    // Assert
    expect((error as Error).name).toBe('DeadlineExceeded');
    expect((error as Error).message).toMatch(/ms left in the invocation; this action needs 30000 ms/);
    expect(mutations()).toHaveLength(0);
    const logged = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => Object.values(c.args[0].input.RequestItems ?? {}).flat())
      .map((r) => r.PutRequest?.Item);
    expect(logged).toContainEqual(
      expect.objectContaining({ decision: 'failed', intentKind: 'ec2.stop-instances' }),
    );
  });
});
