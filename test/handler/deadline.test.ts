import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type Latch, latch } from '../support/latch.ts';

// A Lambda deadline, shortened: the handler must end cleanly and nothing may mutate after it ended.

// Every run the handler starts (middy abandons one at the early timeout and answers at once): kept so
// a test can wait for the abandoned run to end instead of sleeping and hoping it got far enough.
const { runs } = vi.hoisted(() => ({ runs: [] as Promise<unknown>[] }));
vi.mock('#shared/runtime/invocation.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('#shared/runtime/invocation.ts')>();
  return {
    ...original,
    runInInvocation: <T>(...args: Parameters<typeof original.runInInvocation<T>>) => {
      const run = original.runInInvocation(...args);
      runs.push(run);
      return run;
    },
  };
});

// Every client mocked; ssm answers only the kill switch's GetParameter (no parameter: the stage decides).
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const dynamodb = aws.of(DynamoDBClient);
let handler: typeof import('#functions/stopIdleInstances/handler.ts').handler;

const IDLE_ID = 'i-0abc1234def567890';

/** Every instance answers 1 (% CPU, bytes of network) every hour: idle. */
const idleMetrics = hourlyMetricAnswer(() => 1);

const IDLE_FLEET: DescribeInstancesCommandOutput = {
  $metadata: {},
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

/** One opted-in idle instance, described once `answer` opens (a slow or throttled EC2 API) or at once. */
function fleetAnswering(answer?: Latch) {
  ec2.on(DescribeInstancesCommand).callsFake(async () => {
    await answer?.opened;
    return IDLE_FLEET;
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
  aws.reset();
  runs.length = 0;
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
  aws.answerAsEmptyStateTable();
});

describe('an idle scan against its deadline', () => {
  it('stops the idle instance and pages when the invocation has time (control)', async () => {
    // Arrange
    fleetAnswering();
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
    // Arrange: the fleet answers only after the handler has given up (deadline 1.3 s, middy gives up
    // 1 s before it), however slowly this machine runs the handler up to then.
    const fleetAnswer = latch();
    fleetAnswering(fleetAnswer);
    // Act
    const error = await handler(
      loadFixture('stopIdleInstances/scheduled-event.json') as never,
      contextWithDeadlineIn(1_300),
    ).catch((e: unknown) => e);
    fleetAnswer.open();
    // The abandoned run goes on with the late answer: wait until it has ended, acted or not.
    const abandoned = await Promise.allSettled(runs);
    // Assert
    expect((error as Error).name).toBe('DeadlineExceeded');
    expect((error as Error).message).toMatch(/stopIdleInstances ran out of time/);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
    expect(abandoned).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ name: 'DeadlineExceeded' }) },
    ]);
    expect(mutations()).toHaveLength(0);
  });

  it('starts no stop when too little time is left to finish and record it', async () => {
    // Arrange: gather finishes in time, but with less left than the stop executor's budget
    fleetAnswering();
    // Act
    const error = await handler(
      loadFixture('stopIdleInstances/scheduled-event.json') as never,
      contextWithDeadlineIn(20_000),
    ).catch((e: unknown) => e);
    // Assert
    expect((error as Error).name).toBe('DeadlineExceeded');
    expect((error as Error).message).toMatch(/ms left in the invocation; this action needs 30000 ms/);
    expect(mutations()).toHaveLength(0);
    expect(aws.actionLog()).toContainEqual(
      expect.objectContaining({ decision: 'failed', intentKind: 'ec2.stop-instances' }),
    );
  });
});
