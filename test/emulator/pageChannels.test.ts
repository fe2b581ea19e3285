import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { ChatNotification, PagerEvent } from '#shared/domain/channels.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';

// One page to the text, chat and pager topics, each in its format, once per channel even when a
// channel fails and Lambda retries the delivery.
const STACK = 'ops-autopilot-channels';
const CHAT_TOPIC = `arn:aws:sns:us-east-1:123456789012:${STACK}-pages-chat`;
const PAGER_TOPIC = `arn:aws:sns:us-east-1:123456789012:${STACK}-pages-pager`;

let handler: typeof import('#functions/onAlarm/handler.ts').handler;
let chatInbox: string;
let pagerInbox: string;
/** Publishes to the pager topic refused (as SNS would with a 500) while set. */
let pagerDown = false;
const publishedTo: string[] = [];

async function inbox(topicArn: string, name: string): Promise<string> {
  const sqs = new SQSClient({});
  const sns = new SNSClient({});
  await sns.send(new CreateTopicCommand({ Name: topicArn.split(':').pop() as string }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${STACK}-${name}` }));
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: attrs.Attributes?.QueueArn }),
  );
  return queue.QueueUrl as string;
}

async function messages(queueUrl: string): Promise<string[]> {
  const sqs = new SQSClient({});
  const out: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    if (!res.Messages?.length) break;
    out.push(...res.Messages.map((m) => (JSON.parse(m.Body ?? '{}') as { Message: string }).Message));
  }
  return out;
}

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  process.env.PAGE_CHAT_TOPIC_ARN = CHAT_TOPIC;
  process.env.PAGE_PAGER_TOPIC_ARN = PAGER_TOPIC;
  resetConfigForTests();
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  const { sns } = await import('#shared/aws/sns.ts');
  sns.middlewareStack.add(
    (next) => async (args) => {
      const topic = (args.input as { TopicArn?: string }).TopicArn ?? '';
      if (pagerDown && topic === PAGER_TOPIC) {
        throw Object.assign(new Error('Internal error'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      }
      publishedTo.push(topic);
      return next(args);
    },
    { step: 'initialize', name: 'channelsTestPagerDown' },
  );
});

afterAll(async () => {
  delete process.env.PAGE_CHAT_TOPIC_ARN;
  delete process.env.PAGE_PAGER_TOPIC_ARN;
  resetConfigForTests();
});

beforeEach(async () => {
  chatInbox = await inbox(CHAT_TOPIC, 'chat-inbox');
  pagerInbox = await inbox(PAGER_TOPIC, 'pager-inbox');
  pagerDown = false;
  publishedTo.length = 0;
});

const invoke = (event: unknown) => handler(event as never, makeContext());
const alarm = (state: 'ALARM' | 'OK' = 'ALARM') =>
  makeAlarmEvent({
    alarmName: 'checkout-errors',
    namespace: 'Custom/Checkout',
    metricName: 'Errors',
    dimensions: { Service: 'checkout' },
    state,
    ...(state === 'ALARM' ? { id: '0d7f3a52-5a4e-4f43-9d0a-8b1c2d3e4f50' } : {}),
  });

describe('one page on every channel', () => {
  it('pages text, chat and pager each in its format, with the same page id', async () => {
    // Arrange
    const event = alarm();
    // Act
    await invoke(event);
    // Assert
    const [text] = await stack.readPages();
    const chat = (await messages(chatInbox)).map((m) => JSON.parse(m) as ChatNotification);
    const pager = (await messages(pagerInbox)).map((m) => JSON.parse(m) as PagerEvent);
    const pageId = text?.attributes.pageId;
    expect(pageId).toBeTruthy();
    expect(text?.body).toContain(`Page id: ${pageId}`);
    expect(chat).toHaveLength(1);
    expect(chat[0]?.content.textType).toBe('client-markdown');
    expect(chat[0]?.metadata.threadId).toBe(pageId);
    expect(pager).toHaveLength(1);
    expect(pager[0]?.event_action).toBe('trigger');
    expect(pager[0]?.dedup_key).toBe(pageId);
  });

  it('sends the resolve notice to the pager with the dedup key of its trigger', async () => {
    // Arrange
    await invoke(alarm('ALARM'));
    const [trigger] = (await messages(pagerInbox)).map((m) => JSON.parse(m) as PagerEvent);
    // Act
    await invoke(alarm('OK'));
    // Assert
    const [resolved] = (await messages(pagerInbox)).map((m) => JSON.parse(m) as PagerEvent);
    expect(resolved?.event_action).toBe('resolve');
    expect(resolved?.dedup_key).toBe(trigger?.dedup_key);
  });

  it('after a pager failure, the retry pages only the pager: no channel gets the page twice', async () => {
    // Arrange: the pager topic refuses the first delivery's publish.
    const event = alarm();
    pagerDown = true;
    const first = await invoke(event).then(
      () => 'returned',
      (error: Error) => error.name,
    );
    pagerDown = false;
    // Act: Lambda's retry of the same event.
    await invoke(event);
    // Assert
    const texts = await stack.readPages();
    const chats = await messages(chatInbox);
    const pagers = (await messages(pagerInbox)).map((m) => JSON.parse(m) as PagerEvent);
    expect(first).not.toBe('returned');
    expect(texts).toHaveLength(1);
    expect(chats).toHaveLength(1);
    expect(pagers).toHaveLength(1);
    expect(pagers[0]?.dedup_key).toBe(texts[0]?.attributes.pageId);
    expect(publishedTo.filter((t) => t.endsWith('-pages'))).toHaveLength(1);
  });
});
