import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from './table.ts';

/**
 * The instances one run decided to stop, recorded before the first stop. A retried delivery of the same
 * run re-plans against a fleet it has already changed (what it stopped is no longer running, so other
 * idle instances move up); it may only finish the original decision, never widen it past the cap.
 */
export async function claimStopList(correlationId: string, instanceIds: string[]): Promise<Set<string>> {
  const id = stateKey('stop-run', correlationId);
  try {
    await documents.send(
      new PutCommand({
        TableName: stateTable(),
        Item: { id, type: 'stop-run', instanceIds, expiration: nowSeconds() + 7 * DAY },
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    return new Set(instanceIds);
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id }, ConsistentRead: true }),
  );
  return new Set((res.Item?.instanceIds as string[] | undefined) ?? []);
}
