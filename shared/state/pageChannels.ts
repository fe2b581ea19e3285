import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { DAY, nowSeconds, stateKey, stateTable } from './table.ts';

/**
 * Which channels already got one page, when a page goes to several topics: a retry after a failure on
 * one channel sends only to the others, so no channel is paged twice by a retry. Keyed by page id, which
 * every retry of the page shares.
 */
const keyOf = (pageId: string, channel: string) => stateKey('page-channel', pageId, channel);

export async function channelSent(pageId: string, channel: string): Promise<boolean> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: keyOf(pageId, channel) }, ConsistentRead: true }),
  );
  return res.Item !== undefined;
}

export async function markChannelSent(pageId: string, channel: string, messageId: string): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: stateTable(),
      // Retries come within Lambda's event age (at most 6 h): two days is plenty.
      Item: {
        id: keyOf(pageId, channel),
        type: 'page-channel',
        messageId,
        expiration: nowSeconds() + 2 * DAY,
      },
    }),
  );
}
