import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { logger, metrics } from '#shared/runtime/powertools.ts';
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
let onRunbookResult: typeof import('#functions/onRunbookResult/handler.ts').handler;
let onAlarm: typeof import('#functions/onAlarm/handler.ts').handler;

const EXECUTION = '333ba70b-2333-48db-b17e-a5e69c6f4d1c';
const RECORD_KEY = `ops-autopilot-dev#shared#automation#${EXECUTION}`;

const UNKNOWN_RECORD_KEY = 'ops-autopilot-dev#shared#automation#9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e';
/** DynamoDB's refusal of a conditional write, with the item as it stood (ReturnValuesOnConditionCheckFailure). */
const conditionalFailure = (item?: Record<string, unknown>) =>
  Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    ...(item ? { Item: marshall(item) } : {}),
  });

/** The record onAlarm writes for the sample's execution, its page linked. */
const storedRecord = {
  id: RECORD_KEY,
  executionId: EXECUTION,
  document: 'runcommand1',
  rule: 'restart-unresponsive-instance',
  incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
  correlationId: 'alarm-delivery-1',
  account: '123456789012',
  region: 'us-east-1',
  signal: {
    kind: 'alarm.state-change',
    title: 'web-status-check is ALARM',
    summary: 'Threshold Crossed',
    occurredAt: '2016-11-29T19:40:00.000+0000',
    resource: { type: 'cloudwatch alarm', id: 'web-status-check' },
    links: [],
  },
  severity: 'critical',
  pageId: 'page-of-the-alarm',
  startedAt: 1,
};

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.STAGE = 'dev';
  ({ handler: onRunbookResult } = await import('#functions/onRunbookResult/handler.ts'));
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  // An empty table (idempotency): every conditional write succeeds, nothing is in progress.
  aws.answerAsEmptyStateTable();
  dynamodb.on(UpdateItemCommand).resolves({});
  documents.on(GetCommand, { Key: { id: RECORD_KEY } }).resolves({ Item: storedRecord });
  // A result's claim returns the record it claims on (ALL_NEW); another execution has none to claim on.
  documents.on(UpdateCommand, { Key: { id: RECORD_KEY } }).resolves({ Attributes: storedRecord });
  documents.on(UpdateCommand, { Key: { id: UNKNOWN_RECORD_KEY } }).rejects(conditionalFailure());
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: EXECUTION });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  tagging.on(GetResourcesCommand).resolves({
    ResourceTagMappingList: [
      {
        ResourceARN: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890',
        Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }],
      },
    ],
  });
});

const invoke = (event: unknown, context = makeContext('ops-autopilot-dev-onRunbookResult')) =>
  onRunbookResult(event as never, context);
const fixture = (name: string) => loadFixture(`onRunbookResult/${name}`);
const claimsOfResults = () =>
  documents.commandCalls(UpdateCommand).filter((c) => c.args[0].input.Key?.id === RECORD_KEY);
/** The writes of the execution record in a transaction (onAlarm writes it with the page's sent mark). */
const recordPutsInTransactions = () =>
  documents
    .commandCalls(TransactWriteCommand)
    .flatMap((c) => c.args[0].input.TransactItems ?? [])
    .flatMap((item) => (item.Put?.Item?.id === RECORD_KEY ? [item.Put] : []));

describe('onRunbookResult handler: invalid events', () => {
  const invalid = listFixtures().filter((f) => f.startsWith('onRunbookResult/invalid/'));

  it.each(invalid)(
    'rejects %s with an error naming the field, acts on nothing, counts InvalidEvent',
    async (name) => {
      // Arrange
      const addMetric = vi.spyOn(metrics, 'addMetric');
      // Act
      const error = (await invoke(loadFixture(name)).catch((e: unknown) => e)) as Error;
      // Assert
      expect(error.name).toBe('InvalidEventError');
      expect(error.message).toMatch(/^onRunbookResult: invalid event: \S+: /);
      expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
      expect(dynamodb.calls()).toHaveLength(0);
      expect(documents.calls()).toHaveLength(0);
      expect(addMetric).toHaveBeenCalledWith('InvalidEvent', 'Count', 1);
      addMetric.mockRestore();
    },
  );

  it("rejects an execution of another account than the function's, before any AWS call", async () => {
    // Arrange
    const context = makeContext('ops-autopilot-dev-onRunbookResult');
    context.invokedFunctionArn =
      'arn:aws:lambda:us-east-1:210987654321:function:ops-autopilot-dev-onRunbookResult';
    // Act
    const error = (await invoke(fixture('execution-failed.json'), context).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.message).toContain('account: the event is from account 123456789012');
    expect(documents.calls()).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it.each([
    ['account', 'arn:aws:lambda:us-east-1:210987654321:function:ops-autopilot-dev-onRunbookResult'],
    ['region', 'arn:aws:lambda:eu-west-1:123456789012:function:ops-autopilot-dev-onRunbookResult'],
  ])(
    'refuses an execution of another %s with no AWS call of any client: no idempotency record written or deleted',
    async (field, functionArn) => {
      // Arrange
      const context = makeContext('ops-autopilot-dev-onRunbookResult');
      context.invokedFunctionArn = functionArn;
      // Act
      const error = (await invoke(fixture('execution-failed.json'), context).catch(
        (e: unknown) => e,
      )) as Error;
      // Assert
      expect(error.name).toBe('InvalidEventError');
      expect(error.message).toContain(`${field}: `);
      for (const client of [ssm, sns, dynamodb, documents, cloudwatch, tagging])
        expect(client.calls()).toHaveLength(0);
    },
  );
});

describe('onRunbookResult handler', () => {
  it('ignores an execution this system did not start: no page, no claim, logged at INFO and counted', async () => {
    // Arrange
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const info = vi.spyOn(logger, 'info');
    // Act
    const result = (await invoke(fixture('unknown-execution-failed.json'))) as { outcomes: unknown[] };
    // Assert: its claim, the one conditional write an escalation makes before paging, found no record
    // to claim on (it requires one): nothing written, nothing paged.
    expect(result.outcomes).toEqual([
      expect.objectContaining({
        kind: 'sns.page',
        status: 'skipped',
        reason: 'nothing-to-do',
        detail: expect.stringContaining('was not started by this system'),
      }),
    ]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    const writes = documents.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(writes).toEqual([
      expect.objectContaining({
        Key: { id: UNKNOWN_RECORD_KEY },
        ConditionExpression: expect.stringMatching(/^attribute_exists\(id\) AND /),
      }),
    ]);
    expect(addMetric).toHaveBeenCalledWith('RunbookResultIgnored', 'Count', 1);
    expect(info).toHaveBeenCalledWith(
      'runbook result ignored: not an execution this system started',
      expect.objectContaining({ executionId: '9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e', status: 'Failed' }),
    );
    addMetric.mockRestore();
    info.mockRestore();
  });

  it('escalates a failed execution once: claims the result on its record, then pages naming the earlier page', async () => {
    // Act
    await invoke(fixture('execution-failed.json'));
    // Assert
    const [claim] = claimsOfResults();
    expect(claim?.args[0].input).toMatchObject({
      UpdateExpression: 'SET #r = :claim',
      ExpressionAttributeNames: { '#r': 'result-Failed' },
    });
    const [publish] = sns.commandCalls(PublishCommand);
    expect(publish?.args[0].input.Subject).toBe(
      '[CRITICAL] ssm.automation-result: Automation did not fix web-status-check: runcommand1 Failed',
    );
    expect(publish?.args[0].input.MessageAttributes?.earlierPageId?.StringValue).toBe('page-of-the-alarm');
    expect(publish?.args[0].input.MessageAttributes?.notice?.StringValue).toBe('escalation');
  });

  it('pages nothing for a result another delivery already claimed, and counts it as suppressed', async () => {
    // Arrange
    documents
      .on(UpdateCommand, { Key: { id: RECORD_KEY } })
      .rejects(conditionalFailure({ ...storedRecord, 'result-Failed': { claimedBy: 'another-delivery' } }));
    const addMetric = vi.spyOn(metrics, 'addMetric');
    // Act
    const result = (await invoke(fixture('execution-failed.json'))) as { outcomes: { reason?: string }[] };
    // Assert
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(result.outcomes).toEqual([expect.objectContaining({ status: 'skipped', reason: 'suppressed' })]);
    expect(addMetric).toHaveBeenCalledWith('PagesSuppressed', 'Count', 1);
    addMetric.mockRestore();
  });

  it('releases the claim when SNS refuses the escalation, and throws so the delivery is retried', async () => {
    // Arrange
    sns
      .on(PublishCommand)
      .rejects(
        Object.assign(new Error('no such topic'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }),
      );
    // Act
    const error = (await invoke(fixture('execution-failed.json')).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    const expressions = claimsOfResults().map((c) => c.args[0].input.UpdateExpression);
    expect(expressions).toEqual(['SET #r = :claim', 'REMOVE #r']);
  });

  it('keeps the claim when a publish got no answer (it may have been sent), so only its retry pages again', async () => {
    // Arrange
    sns.on(PublishCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    // Act
    const error = (await invoke(fixture('execution-failed.json')).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    const expressions = claimsOfResults().map((c) => c.args[0].input.UpdateExpression);
    expect(expressions).toEqual(['SET #r = :claim']);
  });

  it('sends one notice on the paged incident when the runbook succeeded', async () => {
    // Act
    await invoke(fixture('execution-success.json'));
    // Assert
    const publishes = sns.commandCalls(PublishCommand);
    expect(publishes).toHaveLength(1);
    expect(publishes[0]?.args[0].input.MessageAttributes?.notice?.StringValue).toBe('update');
    expect(publishes[0]?.args[0].input.Message).toContain(
      'Incident key: arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
    );
  });
});

describe('onAlarm records the runbooks it starts for onRunbookResult', () => {
  it('writes the execution record under the shared key after StartAutomationExecution, once', async () => {
    // Act
    await onAlarm(
      makeAlarmEvent({
        alarmName: 'web-cpu-high',
        dimensions: { InstanceId: 'i-0abc1234def567890' },
      }) as never,
      makeContext('ops-autopilot-dev-onAlarm'),
    );
    // Assert: written once, in the transaction that marks the incident's page sent.
    expect(documents.commandCalls(PutCommand)).toHaveLength(0);
    const puts = recordPutsInTransactions();
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({
      ConditionExpression: 'attribute_not_exists(id)',
      Item: {
        id: RECORD_KEY,
        executionId: EXECUTION,
        document: 'AWS-RestartEC2Instance',
        rule: 'web-cpu',
        incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high',
        signal: { title: 'web-cpu-high is ALARM', occurredAt: '2025-06-15T14:30:41.605+0000' },
      },
    });
  });

  it("links the incident's page id and severity to the execution after paging", async () => {
    // Act
    const result = (await onAlarm(
      makeAlarmEvent({
        alarmName: 'web-cpu-high',
        dimensions: { InstanceId: 'i-0abc1234def567890' },
      }) as never,
      makeContext('ops-autopilot-dev-onAlarm'),
    )) as { outcomes: { kind: string; refs?: Record<string, string> }[] };
    // Assert
    const pageId = result.outcomes.find((o) => o.kind === 'sns.page')?.refs?.pageId;
    const [record] = recordPutsInTransactions();
    expect(pageId).toBeDefined();
    expect(record?.Item).toMatchObject({ pageId, severity: 'high' });
  });

  it('fails the start when its record cannot be written, so the retry (same execution) records it', async () => {
    // Arrange: the record's write refused, with the page's sent mark and alone.
    const throttled = () => Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    documents
      .on(TransactWriteCommand)
      .callsFake((input: { TransactItems?: { Put?: { Item?: { id?: string } } }[] }) => {
        if (input.TransactItems?.some((i) => i.Put?.Item?.id === RECORD_KEY)) throw throttled();
        return {};
      });
    documents.on(PutCommand).rejects(throttled());
    // Act
    const error = (await onAlarm(
      makeAlarmEvent({
        alarmName: 'web-cpu-high',
        dimensions: { InstanceId: 'i-0abc1234def567890' },
      }) as never,
      makeContext('ops-autopilot-dev-onAlarm'),
    ).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.name).toBe('ActionFailedError');
    expect(error.message).toContain(`(execution ${EXECUTION}) but could not record it for its result`);
  });

  it('writes the record alone when a retry finds it written, still marking the page sent and linking it', async () => {
    // Arrange: the record exists (an earlier attempt of this transition wrote it), so the transaction
    // with the page's sent mark is cancelled by the record's condition.
    documents
      .on(TransactWriteCommand)
      .callsFake((input: { TransactItems?: { Put?: { Item?: { id?: string } } }[] }) => {
        if (input.TransactItems?.some((i) => i.Put?.Item?.id === RECORD_KEY)) {
          throw Object.assign(new Error('Transaction cancelled'), {
            name: 'TransactionCanceledException',
            CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
          });
        }
        return {};
      });
    documents.on(PutCommand, { Item: { id: RECORD_KEY } }).rejects(conditionalFailure());
    // Act
    const result = (await onAlarm(
      makeAlarmEvent({
        alarmName: 'web-cpu-high',
        dimensions: { InstanceId: 'i-0abc1234def567890' },
      }) as never,
      makeContext('ops-autopilot-dev-onAlarm'),
    )) as { outcomes: { kind: string; status: string; refs?: Record<string, string> }[] };
    // Assert: started and paged; the page marked sent alone, the existing record linked to it.
    expect(result.outcomes.map((o) => `${o.kind} ${o.status}`)).toEqual([
      'ssm.start-automation done',
      'sns.page done',
    ]);
    const updates = documents.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toContainEqual(
      expect.objectContaining({ UpdateExpression: 'SET pageSentAt = :now, expiration = :ttl' }),
    );
    const pageId = result.outcomes.find((o) => o.kind === 'sns.page')?.refs?.pageId;
    expect(updates).toContainEqual(
      expect.objectContaining({
        Key: { id: RECORD_KEY },
        UpdateExpression: 'SET pageId = :page, severity = :sev',
        ExpressionAttributeValues: { ':page': pageId, ':sev': 'high' },
      }),
    );
  });

  it('writes no execution record in dry-run, since nothing is started', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    // Act
    await onAlarm(
      makeAlarmEvent({
        alarmName: 'web-cpu-high',
        dimensions: { InstanceId: 'i-0abc1234def567890' },
      }) as never,
      makeContext('ops-autopilot-dev-onAlarm'),
    );
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    expect(documents.commandCalls(PutCommand)).toHaveLength(0);
  });
});
