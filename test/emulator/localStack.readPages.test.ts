import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { stack, useEmulatedStack } from '../support/emulator.ts';

// `npm run demo` reads the pages after each event: a page it has shown must leave the queue, or after
// SQS's 30 s visibility timeout (a slow run) it comes back and is shown, and counted, on a later row.
const STACK = 'ops-autopilot-readpages';

useEmulatedStack(STACK, { freshEachTest: false });

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
