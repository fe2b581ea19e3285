import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { listFixtures, loadFixture, makeAlarmEvent } from '../support/events.ts';
import { makeContext } from '../support/lambda.ts';

// Handler layer: every AWS client mocked, so failure paths can be forced.
const ssm = mockClient(SSMClient);
const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBClient);
const documents = mockClient(DynamoDBDocumentClient);
const cloudwatch = mockClient(CloudWatchClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
});

beforeEach(() => {
  for (const m of [ssm, sns, dynamodb, documents, cloudwatch]) m.reset();
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  // An empty table: every conditional write succeeds, nothing is in progress.
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({ Attributes: { repeats: { N: '0' } } });
  dynamodb.on(GetItemCommand).resolves({});
  documents.on(UpdateCommand).resolves({ Attributes: { repeats: 0 } });
  documents.on(GetCommand).resolves({});
  documents.on(BatchWriteCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
});

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
});

describe('onAlarm handler: failures are visible and retried', () => {
  it('throws after reporting when the page cannot be published, and releases the window so a retry pages', async () => {
    // Arrange
    sns.on(PublishCommand).rejects(Object.assign(new Error('topic is gone'), { name: 'NotFoundException' }));
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
    ssm
      .on(StartAutomationExecutionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
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
