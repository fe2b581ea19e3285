import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { claimStopBudget } from './stopBudget.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from './table.ts';

const keyOf = (correlationId: string): string => stateKey('stop-run', correlationId);

/**
 * The instances one run decided to stop, recorded before the first stop. A retried delivery of the same
 * run re-plans against a fleet it has already changed (what it stopped is no longer running, so other
 * idle instances move up); it may only finish the original decision, never widen it past the cap.
 */
export async function claimStopList(correlationId: string, instanceIds: string[]): Promise<Set<string>> {
  const id = keyOf(correlationId);
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
  return (await readStopList(correlationId)) ?? new Set();
}

/** The stop list a run recorded, or undefined when this is its first attempt. */
export async function readStopList(correlationId: string): Promise<Set<string> | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: keyOf(correlationId) }, ConsistentRead: true }),
  );
  const ids = res.Item?.instanceIds as string[] | undefined;
  return res.Item ? new Set(ids ?? []) : undefined;
}

export interface StopClaim {
  /** The instances this attempt may stop (or an earlier attempt of this run decided to stop). */
  claimed: Set<string>;
  /** Asked for but refused: the hourly limit is spent. Empty on a retry, which spends nothing. */
  overLimit: string[];
}

/**
 * Before any stop: a retry only finishes its run's recorded decision; a first attempt takes what the
 * rolling hour's budget still allows (the plan's read of it may be stale) and records that as its list.
 */
export async function claimStops(
  correlationId: string,
  instanceIds: string[],
  maxStopsPerHour: number,
): Promise<StopClaim> {
  const recorded = await readStopList(correlationId);
  if (recorded) return { claimed: recorded, overLimit: [] };
  const { granted } = await claimStopBudget(correlationId, instanceIds, maxStopsPerHour);
  const claimed = await claimStopList(correlationId, granted);
  const allowed = new Set(granted);
  return { claimed, overLimit: instanceIds.filter((id) => !allowed.has(id)) };
}
