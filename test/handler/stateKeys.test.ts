import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { makeAlarmEvent } from '../support/events.ts';
import { makeContext } from '../support/lambda.ts';

// Each role may only touch keys that start with its function's name (dynamodb:LeadingKeys): every key
// a function reads or writes, its idempotency records included, must start with that name.
const FUNCTION_NAME = 'ops-autopilot-dev-onAlarm';
const dynamodb = mockClient(DynamoDBClient);
const documents = mockClient(DynamoDBDocumentClient);
mockClient(SNSClient).on(PublishCommand).resolves({ MessageId: 'm-1' });
mockClient(SSMClient).on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
mockClient(CloudWatchClient).on(ListTagsForResourceCommand).resolves({ Tags: [] });
mockClient(EC2Client).resolves({});
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = FUNCTION_NAME;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  dynamodb.resolves({});
  documents.resolves({ Attributes: { repeats: 0 } });
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
});

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
  it("all start with the function's name: idempotency, suppression and the action log", async () => {
    // Act
    await handler(makeAlarmEvent({ alarmName: 'web-cpu-high' }) as never, makeContext(FUNCTION_NAME));
    // Assert
    const ids = [...dynamodb.calls(), ...documents.calls()].flatMap((c) => idsIn(c.args[0].input));
    expect(ids.length).toBeGreaterThanOrEqual(3);
    for (const id of ids) expect(id.startsWith(`${FUNCTION_NAME}#`), id).toBe(true);
    expect(ids.some((id) => id.startsWith(`${FUNCTION_NAME}#page#`))).toBe(true);
    expect(ids.some((id) => id.startsWith(`${FUNCTION_NAME}#action#`))).toBe(true);
  });
});
