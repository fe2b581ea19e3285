import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Each role may only touch keys that start with its function's name (dynamodb:LeadingKeys): every key
// a function reads or writes, its idempotency records included, must start with that name.
const FUNCTION_NAME = 'ops-autopilot-dev-onAlarm';
/** The prefix of the runbook execution records onAlarm writes and onRunbookResult reads. */
const SHARED_AUTOMATION = 'ops-autopilot-dev#shared#automation#';
const aws = await mockAwsClients();
const dynamodb = aws.of(DynamoDBClient);
const documents = aws.of(DynamoDBDocumentClient);
aws.of(SNSClient).on(PublishCommand).resolves({ MessageId: 'm-1' });
const ssm = aws.of(SSMClient);
withoutKillSwitch(ssm);
ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
aws.of(CloudWatchClient).on(ListTagsForResourceCommand).resolves({ Tags: [] });
aws.of(ResourceGroupsTaggingAPIClient).resolves({
  // The sample alarm's instance, opted in: the runbook starts, so its execution record is written too.
  ResourceTagMappingList: [
    {
      ResourceARN: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890',
      Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }],
    },
  ],
});
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = FUNCTION_NAME;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'false';
  process.env.STAGE = 'dev';
  resetConfigForTests();
  dynamodb.resolves({});
  documents.resolves({ Attributes: { repeats: 0 } });
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
});

const RESULT_FUNCTION = 'ops-autopilot-dev-onRunbookResult';

/** Every `id` in a DynamoDB request: Key.id, Item.id, and the items of a batch write. */
function idsIn(input: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown, parentKey: string) => {
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) {
      if (k === 'id' && (parentKey === 'Key' || parentKey === 'Item')) {
        found.push(typeof v === 'string' ? v : String((v as { S?: string }).S));
      } else walk(v, k);
    }
  };
  walk(input, '');
  return found;
}

describe('state-table keys', () => {
  it("all start with the function's name (idempotency, suppression, the action log), but the shared execution record", async () => {
    // Arrange: onAlarm's process (the other test names its own), and only this test's calls
    process.env.AWS_LAMBDA_FUNCTION_NAME = FUNCTION_NAME;
    resetConfigForTests();
    dynamodb.resetHistory();
    documents.resetHistory();
    // Act
    await handler(makeAlarmEvent({ alarmName: 'web-cpu-high' }) as never, makeContext(FUNCTION_NAME));
    // Assert
    const ids = [...dynamodb.calls(), ...documents.calls()].flatMap((c) => idsIn(c.args[0].input));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const own = ids.filter((id) => id !== `${SHARED_AUTOMATION}e-1`);
    for (const id of own) expect(id.startsWith(`${FUNCTION_NAME}#`), id).toBe(true);
    // The record of the runbook it started, which onRunbookResult reads: the one prefix IAM shares.
    expect(ids).toContain(`${SHARED_AUTOMATION}e-1`);
    expect(ids.some((id) => id.startsWith(`${FUNCTION_NAME}#page#`))).toBe(true);
    expect(ids.some((id) => id.startsWith(`${FUNCTION_NAME}#action#`))).toBe(true);
  });

  it("onRunbookResult's start with its name, but the execution record it reads and claims results on", async () => {
    // Arrange: a process of its own function (its keys are named when the handler is built)
    process.env.AWS_LAMBDA_FUNCTION_NAME = RESULT_FUNCTION;
    resetConfigForTests();
    const { handler: onRunbookResult } = await import('#functions/onRunbookResult/handler.ts');
    const event = loadFixture<{ detail: { ExecutionId: string } }>('onRunbookResult/execution-failed.json');
    const shared = `${SHARED_AUTOMATION}${event.detail.ExecutionId}`;
    const record = {
      id: shared,
      executionId: event.detail.ExecutionId,
      incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web',
      account: '123456789012',
      region: 'us-east-1',
      document: 'runcommand1',
      rule: 'restart',
      correlationId: 'c-1',
      signal: { kind: 'alarm.state-change', title: 'web is ALARM', summary: '', occurredAt: '', links: [] },
      severity: 'high',
      startedAt: 1,
    };
    documents.on(GetCommand, { Key: { id: shared } }).resolves({ Item: record });
    // The result's claim returns the record it claims on (ALL_NEW), as DynamoDB does.
    documents.on(UpdateCommand, { Key: { id: shared } }).resolves({ Attributes: record });
    dynamodb.resetHistory();
    documents.resetHistory();
    // Act
    await onRunbookResult(event as never, makeContext(RESULT_FUNCTION));
    // Assert
    const ids = [...dynamodb.calls(), ...documents.calls()].flatMap((c) => idsIn(c.args[0].input));
    const own = ids.filter((id) => id !== shared);
    expect(own.length).toBeGreaterThanOrEqual(2);
    for (const id of own) expect(id.startsWith(`${RESULT_FUNCTION}#`), id).toBe(true);
    expect(ids.filter((id) => id === shared).length).toBeGreaterThanOrEqual(2);
  });
});
