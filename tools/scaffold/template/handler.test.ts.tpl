import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer, beside the function (npm run new:function wrote it here): every AWS client mocked.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const dynamodb = aws.of(DynamoDBClient);
const documents = aws.of(DynamoDBDocumentClient);
let handler: typeof import('./handler.ts').handler;

/** The stack's own state table and page topic: what paging itself calls, not a change to the account. */
const OWN_CLIENTS = new Set(['DynamoDBClient', 'DynamoDBDocumentClient', 'SNSClient']);
const READS = /^(Describe|Get|List|Lookup|Head)/;
const accountChanges = () =>
  aws.calls().filter((c) => !OWN_CLIENTS.has(c.client) && !READS.test(c.command.replace(/Command$/, '')));

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.STAGE = 'dev';
  ({ handler } = await import('./handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(aws.of(SSMClient));
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  // An empty table: every conditional write succeeds, no incident is open.
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({});
  dynamodb.on(GetItemCommand).resolves({});
  documents.on(UpdateCommand).resolves({ Attributes: { repeats: 0 } });
  documents.on(PutCommand).resolves({});
  documents.on(TransactWriteCommand).resolves({});
  documents.on(GetCommand).resolves({});
  documents.on(BatchWriteCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

const invoke = (event: unknown, context = makeContext('ops-autopilot-dev-__NAME__')) =>
  handler(event as never, context);
const sample = () => loadFixture<{ detail: Record<string, unknown> }>('__NAME__/sample.json');

describe('__NAME__ handler', () => {
  it('pages an open AWS Health issue once, with its event type in the subject', async () => {
    // Act
    await invoke(sample());
    // Assert
    const publishes = sns.commandCalls(PublishCommand);
    expect(publishes.length).toBeGreaterThan(0);
    expect(publishes[0]?.args[0].input.Subject).toContain('AWS_EC2_OPERATIONAL_ISSUE');
    expect(new Set(publishes.map((p) => p.args[0].input.Message)).size).toBe(1);
  });

  it('in dry-run still pages, and makes no call that changes the account', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    // Act
    await invoke(sample());
    // Assert
    expect(sns.commandCalls(PublishCommand).length).toBeGreaterThan(0);
    expect(accountChanges()).toEqual([]);
  });

  it('records a closed event without a page', async () => {
    // Arrange
    const closed = sample();
    closed.detail.statusCode = 'closed';
    // Act
    const result = (await invoke(closed)) as { findings?: { decision: string } };
    // Assert
    expect(result.findings?.decision).toBe('record');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it.each(listFixtures().filter((f) => f.startsWith('__NAME__/invalid/')))(
    'rejects %s with an error naming the field, before any AWS call',
    async (name) => {
      // Act
      const error = (await invoke(loadFixture(name)).catch((e: unknown) => e)) as Error;
      // Assert
      expect(error.name).toBe('InvalidEventError');
      expect(error.message).toMatch(/^__NAME__: invalid event: \S+: /);
      expect(aws.calls()).toEqual([]);
    },
  );

  it("refuses an event of another account than the function's, before any AWS call", async () => {
    // Arrange
    const context = makeContext('ops-autopilot-dev-__NAME__');
    context.invokedFunctionArn = 'arn:aws:lambda:us-east-1:210987654321:function:ops-autopilot-dev-__NAME__';
    // Act
    const error = (await invoke(sample(), context).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.message).toContain('account: ');
    expect(aws.calls()).toEqual([]);
  });
});
