import {
  CreateTableCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { STATE_TABLE_TTL_ATTRIBUTE, stateTableDefinition } from '#shared/state/tableDefinition.ts';

/**
 * The stack's stateful resources, created in the emulator the way serverless.yml creates them in AWS:
 * the state table (shared/state/tableDefinition.ts: key `id`, TTL on `expiration`, the action-log
 * indexes) and the paging topic, with an SQS queue subscribed
 * so tests, the demo and `npm run local:up` can read every page that was sent.
 */
export interface LocalStack {
  tableName: string;
  topicArn: string;
  pageQueueUrl: string;
  /** The pages waiting; `remove` deletes them once read (see `receivePages`). */
  readPages(remove?: boolean): Promise<DeliveredPage[]>;
  scanTable(): Promise<Record<string, unknown>[]>;
}

export interface DeliveredPage {
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export async function createLocalStack(name = 'ops-autopilot-local'): Promise<LocalStack> {
  const dynamodb = new DynamoDBClient({});
  const sns = new SNSClient({});
  const sqs = new SQSClient({});
  const tableName = `${name}-state`;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      // The deployed table's keys and indexes (the package test holds serverless.yml to the same).
      ...stateTableDefinition,
    }),
  );
  // CreateTable takes no TTL; CloudFormation sets it after the table, as here.
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: STATE_TABLE_TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  const topic = await sns.send(new CreateTopicCommand({ Name: `${name}-pages` }));
  const topicArn = topic.TopicArn as string;
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-page-inbox` }));
  const pageQueueUrl = queue.QueueUrl as string;
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: pageQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attrs.Attributes?.QueueArn }),
  );

  return {
    tableName,
    topicArn,
    pageQueueUrl,
    readPages: (remove = false) => receivePages(sqs, pageQueueUrl, remove),
    async scanTable() {
      const res = await dynamodb.send(new ScanCommand({ TableName: tableName }));
      return (res.Items ?? []).map((i) => unmarshall(i));
    },
  };
}

/**
 * The pages waiting in a subscribed queue. Kept, they stay invisible for the queue's default 30 s, so a
 * test reads only new pages; `remove` deletes them (`npm run local:pages` shows each page once).
 */
export async function receivePages(
  sqs: SQSClient,
  queueUrl: string,
  remove = false,
): Promise<DeliveredPage[]> {
  const pages: DeliveredPage[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) {
      const envelope = JSON.parse(m.Body ?? '{}') as {
        Subject?: string;
        Message?: string;
        MessageAttributes?: Record<string, { Value: string }>;
      };
      pages.push({
        subject: envelope.Subject ?? '',
        body: envelope.Message ?? '',
        attributes: Object.fromEntries(
          Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]),
        ),
      });
    }
    if (remove) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
  return pages;
}
