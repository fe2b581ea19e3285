import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  SSMClient,
  StartAutomationExecutionCommand,
  type StartAutomationExecutionCommandInput,
} from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { pageIdOf } from '#shared/domain/page.ts';
import { automationRecordKey } from '#shared/state/automationExecutions.ts';
import { incidentRecordKey } from '#shared/state/suppression.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// A runbook start whose answer is lost: StartAutomationExecution reached SSM, which started the
// execution, but the answer never came back (a timeout after the request was sent; the SDK's own
// retries timed out too). The delivery fails and Lambda retries it. SSM treats a repeated ClientToken as
// the API reference says: the token "can't be reused" for another request, and a retry whose request
// differs is refused with IdempotentParameterMismatch; the same request gets the original execution
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html).

const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);
const cloudwatch = aws.of(CloudWatchClient);
const tagging = aws.of(ResourceGroupsTaggingAPIClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

const INCIDENT = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high';
const TARGET_ARN = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890';

/** SSM's executions by ClientToken, each with the request that started it. */
let executions: Map<string, { executionId: string; request: string }>;
/** The first start's answer is lost on its way back; SSM has started the execution all the same. */
let loseNextAnswer: boolean;

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
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  tagging.on(GetResourcesCommand).resolves({
    ResourceTagMappingList: [
      { ResourceARN: TARGET_ARN, Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }] },
    ],
  });
  executions = new Map();
  loseNextAnswer = false;
  ssm.on(StartAutomationExecutionCommand).callsFake(async (input: StartAutomationExecutionCommandInput) => {
    const token = input.ClientToken ?? crypto.randomUUID();
    const request = JSON.stringify(input);
    let execution = executions.get(token);
    if (execution && execution.request !== request) {
      throw Object.assign(new Error('parameters do not match the original request with this token'), {
        name: 'IdempotentParameterMismatch',
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (!execution) {
      execution = { executionId: `exec-${executions.size + 1}`, request };
      executions.set(token, execution);
    }
    if (loseNextAnswer) {
      loseNextAnswer = false;
      // No HTTP status: the SDK's request timeout, after SSM had the request.
      throw Object.assign(new Error('Request did not complete within 5000 ms'), {
        name: 'TimeoutError',
        $metadata: {},
      });
    }
    return { AutomationExecutionId: execution.executionId };
  });
});

const invoke = (event: unknown) => handler(event as never, makeContext());
const pages = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Message ?? '');

/**
 * The incident's record as the first delivery left it: its window opened by that delivery (the values
 * its open wrote) and its page marked sent. The retry's open then finds the window taken.
 */
function answerAsTableAfterFirstDelivery(): void {
  const open = documents
    .commandCalls(UpdateCommand)
    .find((c) => c.args[0].input.Key?.id === incidentRecordKey(INCIDENT))?.args[0].input;
  const values = open?.ExpressionAttributeValues ?? {};
  expect(values[':cid']).toBeDefined();
  documents.on(GetCommand, { Key: { id: incidentRecordKey(INCIDENT) } }).resolves({
    Item: {
      id: incidentRecordKey(INCIDENT),
      windowEndsAt: values[':end'],
      pagedBy: values[':cid'],
      lastCorrelationId: values[':cid'],
      repeats: 0,
      severity: values[':sev'],
      alarmAt: values[':at'],
      pageSentAt: Math.floor(Date.now() / 1000),
    },
  });
  documents.on(UpdateCommand, { Key: { id: incidentRecordKey(INCIDENT) } }).callsFake(async () => {
    throw Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
    });
  });
}

describe('a runbook start whose StartAutomationExecution answer was lost', () => {
  it("pages that the runbook may have started, not that it could not start, when SSM's answer is lost", async () => {
    // Arrange
    loseNextAnswer = true;
    // Act
    const error = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' })).catch(
      (e: unknown) => e,
    )) as Error;
    // Assert: the delivery fails (Lambda retries it); its one page does not say the start failed.
    expect(error.name).toBe('ActionFailedError');
    expect(executions.size).toBe(1);
    expect(pages()).toHaveLength(1);
    expect(pages()[0]).toContain('FAILED ssm.start-automation: may have started AWS-RestartEC2Instance');
    expect(pages()[0]).toContain('same ClientToken');
    expect(pages()[0]).not.toContain('could not start');
  });

  it('starts no second execution when Lambda retries the delivery, records the execution and pages once', async () => {
    // Arrange: the first delivery's start reaches SSM, its answer is lost, the delivery fails.
    const event = makeAlarmEvent({ id: 'delivery-1', alarmName: 'web-cpu-high' });
    loseNextAnswer = true;
    await expect(invoke(event)).rejects.toThrow('ssm.start-automation');
    answerAsTableAfterFirstDelivery();
    // Act: Lambda retries the same event.
    const retry = await invoke(structuredClone(event));
    // Assert: SSM was asked twice with one request and one token, and has one execution.
    const [first, second] = ssm
      .commandCalls(StartAutomationExecutionCommand)
      .map((c) => JSON.stringify(c.args[0].input));
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(2);
    expect(second).toBe(first);
    expect([...executions.values()].map((e) => e.executionId)).toEqual(['exec-1']);
    expect(retry).toMatchObject({
      outcomes: expect.arrayContaining([
        expect.objectContaining({
          kind: 'ssm.start-automation',
          status: 'done',
          refs: expect.objectContaining({ executionId: 'exec-1' }),
        }),
      ]),
    });
    // The execution is recorded once, linked to the page the first delivery sent, so onRunbookResult
    // knows it as this system's and names that page if it fails.
    const records = documents
      .commandCalls(PutCommand)
      .map((c) => c.args[0].input.Item)
      .filter((item) => item?.id === automationRecordKey('exec-1'));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      executionId: 'exec-1',
      document: 'AWS-RestartEC2Instance',
      incidentKey: INCIDENT,
      pageId: pageIdOf(INCIDENT, 'incident', 'delivery-1'),
    });
    // Paged once: the retry's page is the one the first delivery already sent.
    expect(pages()).toHaveLength(1);
  });
});
