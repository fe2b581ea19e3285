import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer: every AWS client mocked, so failure paths can be forced.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const dynamodb = aws.of(DynamoDBClient);
const documents = aws.of(DynamoDBDocumentClient);
const cloudwatch = aws.of(CloudWatchClient);
const tagging = aws.of(ResourceGroupsTaggingAPIClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  // An empty table: every conditional write succeeds, nothing is in progress.
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  // The sample alarm's instance, running and opted in to remediation.
  tagging.on(GetResourcesCommand).resolves(instanceWithTags({ 'ops:auto-remediate': 'true' }));
});

const TARGET_ARN = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890';

/** The Tagging API's answer for the sample alarm's instance. */
function instanceWithTags(tags: Record<string, string>) {
  return {
    ResourceTagMappingList: [
      { ResourceARN: TARGET_ARN, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    ],
  };
}

const invoke = (event: unknown) => handler(event as never, makeContext());
const mutatingCalls = () => [
  ...ssm.commandCalls(StartAutomationExecutionCommand),
  ...sns.commandCalls(PublishCommand),
];

describe('onAlarm handler: invalid events', () => {
  const invalid = listFixtures().filter((f) => f.startsWith('onAlarm/invalid/'));

  it('has invalid fixtures to check', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(4);
  });

  it.each(invalid)(
    'rejects %s with an error naming the field, acts on nothing, counts InvalidEvent',
    async (fixture) => {
      // Arrange
      const addMetric = vi.spyOn(metrics, 'addMetric');
      // Act
      const error = await invoke(loadFixture(fixture)).catch((e: unknown) => e);
      // Assert
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('InvalidEventError');
      expect((error as Error).message).toMatch(/^onAlarm: invalid event: \S+: /);
      expect(mutatingCalls()).toHaveLength(0);
      expect(dynamodb.calls()).toHaveLength(0);
      expect(documents.calls()).toHaveLength(0);
      expect(addMetric).toHaveBeenCalledWith('InvalidEvent', 'Count', 1);
      addMetric.mockRestore();
    },
  );

  it('names the missing field', async () => {
    // Act
    const error = (await invoke(loadFixture('onAlarm/invalid/missing-alarm-name.json')).catch(
      (e: unknown) => e,
    )) as Error;
    // Assert
    expect(error.message).toContain('detail.alarmName');
  });

  it.each([
    ['future-state-timestamp.json', 'detail.state.timestamp: is more than 5 minutes in the future'],
    ['future-event-time.json', 'time: is more than 5 minutes in the future'],
    ['unreadable-state-timestamp.json', 'detail.state.timestamp: is not a readable timestamp'],
    [
      'foreign-alarm-arn.json',
      "resources: must contain the alarm's own ARN arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high",
    ],
    ['other-account-arn.json', "resources: must contain the alarm's own ARN"],
    ['other-region-arn.json', "resources: must contain the alarm's own ARN"],
    ['empty-id.json', 'id: must be 1 to 128 printable ASCII characters'],
    ['oversized-id.json', 'id: must be 1 to 128 printable ASCII characters'],
    ['lone-surrogate-name.json', 'detail.alarmName: is not valid Unicode'],
    ['control-character-name.json', 'detail.alarmName: contains a control character'],
    ['long-alarm-name.json', 'detail.alarmName: must be 1 to 255 characters'],
    ['empty-account.json', 'account: must be a 12-digit AWS account id'],
    ['empty-region.json', 'region: must be an AWS region'],
    ['oversized-tag-value.json', 'detail.alarmTags.team: must be at most 256 characters'],
  ])('says why invalid/%s is refused', async (fixture, expected) => {
    // Act
    const error = (await invoke(loadFixture(`onAlarm/invalid/${fixture}`)).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.name).toBe('InvalidEventError');
    expect(error.message).toContain(expected);
  });
});

describe('onAlarm handler: names within bounds are handled', () => {
  it('pages an alarm whose name has spaces, slashes and colons, keyed by its ARN', async () => {
    // Arrange
    const alarmName = 'checkout api: p99 / eu-west';
    // Act
    await invoke(makeAlarmEvent({ alarmName }));
    // Assert
    const arn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`;
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    const windowKeys = documents.commandCalls(UpdateCommand).map((c) => String(c.args[0].input.Key?.id));
    expect(windowKeys).toContainEqual(expect.stringContaining(arn));
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      encodeURIComponent(alarmName),
    );
  });
});

describe('onAlarm handler: failures are visible and retried', () => {
  it('throws after reporting when the page cannot be published, and releases the window so a retry pages', async () => {
    // Arrange
    // As the SDK reports SNS's answer: a 404 means the message was not sent.
    sns.on(PublishCommand).rejects(
      Object.assign(new Error('topic is gone'), {
        name: 'NotFoundException',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    // Act
    const error = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' })).catch(
      (e: unknown) => e,
    )) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    expect(error.message).toContain('sns.page: could not send');
    expect(error.message).toContain('[NotFoundException: topic is gone]');
    const release = documents
      .commandCalls(UpdateCommand)
      .find((c) => c.args[0].input.UpdateExpression === 'SET windowEndsAt = :zero REMOVE pagedBy');
    expect(release).toBeDefined();
  });

  it('keeps the claim when a publish got no answer (it may have been sent), so only its retry pages, under the same page id', async () => {
    // Arrange: the connection drops before SNS answers: no HTTP status
    sns.on(PublishCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    // Act
    const error = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' })).catch(
      (e: unknown) => e,
    )) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    expect(error.message).toMatch(/sns\.page: may not have sent .* \(page id [0-9a-f-]{36}\)/);
    const release = documents
      .commandCalls(UpdateCommand)
      .find((c) => c.args[0].input.UpdateExpression === 'SET windowEndsAt = :zero REMOVE pagedBy');
    expect(release).toBeUndefined();
  });

  it('reports a page it could not claim in the state table as a failed action, so the delivery is retried', async () => {
    // Arrange
    documents.on(UpdateCommand).rejects(
      Object.assign(new Error('Throughput exceeds the table limit'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );
    // Act
    const error = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' })).catch(
      (e: unknown) => e,
    )) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    expect(error.message).toContain('sns.page: could not claim the incident notice');
    expect(error.message).toContain('ProvisionedThroughputExceededException');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('pages the runbook failure and then throws so the delivery is retried', async () => {
    // Arrange
    ssm.on(StartAutomationExecutionCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    const error = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' })).catch(
      (e: unknown) => e,
    )) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('FAILED ssm.start-automation: could not start AWS-RestartEC2Instance');
    expect(message).toContain('ThrottlingException: Rate exceeded');
  });

  it('still pages when the alarm tags cannot be read, and says so', async () => {
    // Arrange
    cloudwatch
      .on(ListTagsForResourceCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('alarm tags could not be read (AccessDenied: not authorized)');
  });

  it('uses the tags the event carries instead of asking CloudWatch', async () => {
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high', tags: { severity: 'critical' } }));
    // Assert
    expect(cloudwatch.calls()).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toMatch(/^\[CRITICAL\]/);
  });

  it('starts no runbook in dry-run mode, and still pages', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(ssm.calls()).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });
});

describe('onAlarm handler: runbook scope', () => {
  it('does not restart an instance that is not opted in, and pages why', async () => {
    // Arrange: an alarm anyone could create, naming an instance that never opted in.
    tagging.on(GetResourcesCommand).resolves(instanceWithTags({ Name: 'payments-db' }));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    // Act
    const result = await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(addMetric).toHaveBeenCalledWith('RunbooksRefused', 'Count', 1);
    addMetric.mockRestore();
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    expect(tagging.commandCalls(GetResourcesCommand)[0]?.args[0].input).toEqual({
      ResourceARNList: [TARGET_ARN],
    });
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'runbook AWS-RestartEC2Instance not started: instance i-0abc1234def567890 is not tagged ops:auto-remediate=true',
    );
    expect(result).toMatchObject({ notes: [expect.objectContaining({ reason: 'out-of-scope' })] });
  });

  it('does not restart an instance whose tags cannot be read, and pages why', async () => {
    // Arrange
    tagging
      .on(GetResourcesCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('could not be read (AccessDeniedException: not allowed)');
  });

  it('does not restart an instance the Tagging API does not list (untagged or missing), and pages why', async () => {
    // Arrange: GetResources leaves out an ARN that has no tags or names no resource.
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('i-0abc1234def567890 could not be read (it has no tags, or no such instance');
  });

  it('does not restart an instance another service manages, even when it opted in', async () => {
    // Arrange: the Tagging API lists aws: tags too, here an Auto Scaling group's.
    tagging
      .on(GetResourcesCommand)
      .resolves(instanceWithTags({ 'ops:auto-remediate': 'true', 'aws:autoscaling:groupName': 'web-asg' }));
    // Act
    const result = await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    expect(result).toMatchObject({ notes: [expect.objectContaining({ reason: 'out-of-scope' })] });
  });

  it('takes no tag of another resource in the answer for the target', async () => {
    // Arrange: an answer that lists some other instance's tags only.
    tagging.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [
        {
          ResourceARN: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0fffffffffffffff0',
          Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }],
        },
      ],
    });
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
  });
});

describe('onAlarm handler: one transition, one request', () => {
  it('sends byte-identical StartAutomationExecution requests for two deliveries of one transition', async () => {
    // Arrange: the same state change delivered twice under different event ids.
    const timestamp = '2025-06-21T02:17:44.533+0000';
    const first = makeAlarmEvent({ id: 'delivery-1', alarmName: 'web-cpu-high', timestamp });
    const second = makeAlarmEvent({ id: 'delivery-2', alarmName: 'web-cpu-high', timestamp });
    // Act
    await invoke(first);
    await invoke(second);
    // Assert
    const [a, b] = ssm
      .commandCalls(StartAutomationExecutionCommand)
      .map((c) => JSON.stringify(c.args[0].input));
    expect(a).toBeDefined();
    expect(b).toBe(a);
    expect(a).not.toContain('delivery-1');
    expect(JSON.parse(a ?? '{}').Tags).toEqual([
      { Key: 'ops:started-by', Value: 'ops-autopilot' },
      { Key: 'ops:incident', Value: expect.stringMatching(/^[0-9a-f]{32}$/) },
      { Key: 'ops:transition', Value: JSON.parse(a ?? '{}').ClientToken },
    ]);
  });
});
