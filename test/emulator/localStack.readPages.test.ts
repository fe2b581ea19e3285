import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulatedStack } from '../../tools/local/emulator.ts';
import { createLocalStack, type LocalStack } from '../../tools/local/localStack.ts';
import type { Moto } from '../../tools/local/moto.ts';

// `npm run demo` reads the pages after each event: a page it has shown must leave the queue, or after
// SQS's 30 s visibility timeout (a slow run) it comes back and is shown, and counted, on a later row.
const STACK = 'ops-autopilot-readpages';
let moto: Moto;
let stack: LocalStack;

beforeAll(async () => {
  moto = await startEmulatedStack(STACK);
  stack = await createLocalStack(STACK);
});

afterAll(async () => {
  await moto?.stop();
});

const inFlight = async (queueUrl: string): Promise<number> => {
  const res = await new SQSClient({}).send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? Number.NaN);
};

describe('the pages the demo reads', () => {
  it('removes a page once read, so a slow run cannot show it again on a later event', async () => {
    // Arrange
    await new SNSClient({}).send(
      new PublishCommand({ TopicArn: stack.topicArn, Subject: '[HIGH] demo page', Message: 'body' }),
    );
    // Act
    const pages = await stack.readPages(true);
    // Assert
    expect(pages.map((p) => p.subject)).toEqual(['[HIGH] demo page']);
    expect(await inFlight(stack.pageQueueUrl)).toBe(0);
  });
});
