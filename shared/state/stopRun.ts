import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { claimStopBudget } from './stopBudget.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from './table.ts';

const keyOf = (correlationId: string): string => stateKey('stop-run', correlationId);

/**
 * The instances one run decided to stop, recorded before the first stop with the delivery that decided.
 * A retried delivery of the same run re-plans against a fleet it has already changed (what it stopped is
 * no longer running, so other idle instances move up); it may only finish the original decision, never
 * widen it past the cap. Another delivery of the same decision (two deliveries of one cost anomaly
 * update) finds it decided and stops nothing.
 */
export async function claimStopList(
  correlationId: string,
  instanceIds: string[],
  delivery: string = correlationId,
): Promise<StopList> {
  const id = keyOf(correlationId);
  try {
    await documents.send(
      new PutCommand({
        TableName: stateTable(),
        Item: { id, type: 'stop-run', instanceIds, by: delivery, expiration: nowSeconds() + 7 * DAY },
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
    return { ids: new Set(instanceIds), by: delivery };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  return (await readStopRecord(correlationId)) ?? { ids: new Set() };
}

/** A decision's stop list and the delivery that recorded it (unknown for lists recorded before it was kept). */
export interface StopList {
  ids: Set<string>;
  by?: string;
}

async function readStopRecord(correlationId: string): Promise<StopList | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: keyOf(correlationId) }, ConsistentRead: true }),
  );
  if (!res.Item) return undefined;
  const ids = (res.Item.instanceIds as string[] | undefined) ?? [];
  const by = typeof res.Item.by === 'string' ? res.Item.by : undefined;
  return { ids: new Set(ids), ...(by ? { by } : {}) };
}

/** The stop list a run recorded, or undefined when this is its first attempt. */
export async function readStopList(correlationId: string): Promise<Set<string> | undefined> {
  return (await readStopRecord(correlationId))?.ids;
}

export interface StopClaim {
  /** The instances this attempt may stop (or an earlier attempt of this run decided to stop). */
  claimed: Set<string>;
  /** Asked for but refused: the hourly limit is spent. Empty on a retry, which spends nothing. */
  overLimit: string[];
  /** Another delivery recorded this decision's stop list: it stops them (`decided`), this one nothing. */
  decidedBy?: string;
  decided?: Set<string>;
}

/** This delivery finishes its own list; another delivery's list is left to it. */
function claimOf(list: StopList, delivery: string): StopClaim {
  if (list.by !== undefined && list.by !== delivery) {
    return { claimed: new Set(), overLimit: [], decidedBy: list.by, decided: list.ids };
  }
  return { claimed: list.ids, overLimit: [] };
}

/**
 * Before any stop: a retry only finishes its run's recorded decision; a first attempt takes what the
 * rolling hour's budget still allows (the plan's read of it may be stale) and records that as its list.
 * `run` keys the decision; `delivery` is the delivery asking (the run itself for an idle scan).
 */
export async function claimStops(
  run: string,
  instanceIds: string[],
  maxStopsPerHour: number,
  delivery: string = run,
): Promise<StopClaim> {
  const recorded = await readStopRecord(run);
  if (recorded) return claimOf(recorded, delivery);
  const { granted } = await claimStopBudget(run, instanceIds, maxStopsPerHour);
  const list = await claimStopList(run, granted, delivery);
  if (list.by !== undefined && list.by !== delivery) return claimOf(list, delivery);
  const allowed = new Set(granted);
  return { claimed: list.ids, overLimit: instanceIds.filter((id) => !allowed.has(id)) };
}
