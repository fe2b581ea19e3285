import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ActionLogEntry } from './actionLog.ts';
import { ACTION_LOG_BY_DAY, ACTION_LOG_BY_INCIDENT } from './tableDefinition.ts';

/**
 * Reading the action log, for people (npm run decisions) and tests: never by the functions, whose roles
 * may read only their own keys. Newest first.
 */
export interface DecisionQuery {
  table: string;
  /** Only the decisions about this incident (its key: an alarm ARN, `cloudtrail:<account>:<event id>`, ...). */
  incident?: string;
  /** Only decisions at or after this time (epoch ms). */
  sinceMs: number;
  /** Now (epoch ms): the last day partition to read. */
  nowMs: number;
  limit: number;
}

const DAY_MS = 86_400_000;

/** The UTC days from `untilMs` back to `sinceMs`, newest first (the `byDay` partitions to read). */
export function daysBack(sinceMs: number, untilMs: number): string[] {
  const days: string[] = [];
  const first = new Date(new Date(sinceMs).toISOString().slice(0, 10)).getTime();
  for (let t = new Date(new Date(untilMs).toISOString().slice(0, 10)).getTime(); t >= first; t -= DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

async function queryIndex(
  client: DynamoDBDocumentClient,
  q: DecisionQuery,
  index: string,
  key: { name: string; value: string },
  limit: number,
): Promise<ActionLogEntry[]> {
  const out: ActionLogEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await client.send(
      new QueryCommand({
        TableName: q.table,
        IndexName: index,
        KeyConditionExpression: '#k = :k AND #at >= :since',
        ExpressionAttributeNames: { '#k': key.name, '#at': 'at' },
        ExpressionAttributeValues: { ':k': key.value, ':since': new Date(q.sinceMs).toISOString() },
        ScanIndexForward: false,
        Limit: limit - out.length,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    out.push(...((res.Items ?? []) as ActionLogEntry[]));
    start = res.LastEvaluatedKey;
  } while (start && out.length < limit);
  return out;
}

/** The last `limit` decisions since `sinceMs`: about one incident, or all of them, day by day. */
export async function queryDecisions(
  client: DynamoDBDocumentClient,
  q: DecisionQuery,
): Promise<ActionLogEntry[]> {
  if (q.incident !== undefined) {
    return queryIndex(client, q, ACTION_LOG_BY_INCIDENT, { name: 'incidentKey', value: q.incident }, q.limit);
  }
  const out: ActionLogEntry[] = [];
  for (const day of daysBack(q.sinceMs, q.nowMs)) {
    if (out.length >= q.limit) break;
    out.push(
      ...(await queryIndex(client, q, ACTION_LOG_BY_DAY, { name: 'day', value: day }, q.limit - out.length)),
    );
  }
  return out;
}

/** `30m`, `1h`, `7d`: how far back, in ms; undefined for anything else. */
export function parseSince(text: string): number | undefined {
  const m = /^(\d{1,4})([mhd])$/.exec(text);
  if (!m) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: DAY_MS }[m[2] as 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
