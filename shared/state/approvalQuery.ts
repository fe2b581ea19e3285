import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { daysBack } from './actionLogQuery.ts';
import type { PendingApproval } from './approvals.ts';
import { sharedPrefixOf } from './sharedRecords.ts';
import { ACTION_LOG_BY_DAY } from './tableDefinition.ts';

/**
 * The approvals a person still has to decide (`pending`) or missed (`expired`), for `npm run decisions
 * -- --approvals`: found through the action log's `byDay` index (every pending action leaves an
 * `approval-pending` entry naming its id), then read from its own record. No scan.
 */
export interface ApprovalRow {
  approvalId: string;
  state: 'pending' | 'expired';
  createdAt: string;
  expiresAt: string;
  owner: string;
  incidentKey: string;
  preview: string;
}

const ID_IN_DETAIL = /\bap-[0-9a-f]{32}\b/;
/** The stage in a deployed function name, `ops-autopilot-<stage>-<function>`. */
const STAGE_OF = /^ops-autopilot-([^-]+)-/;

interface PendingEntry {
  approvalId: string;
  stage: string;
}

async function pendingEntries(
  client: DynamoDBDocumentClient,
  q: { table: string; sinceMs: number; nowMs: number },
): Promise<PendingEntry[]> {
  const out: PendingEntry[] = [];
  for (const day of daysBack(q.sinceMs, q.nowMs)) {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await client.send(
        new QueryCommand({
          TableName: q.table,
          IndexName: ACTION_LOG_BY_DAY,
          KeyConditionExpression: '#day = :day AND #at >= :since',
          FilterExpression: '#reason = :pending',
          ExpressionAttributeNames: { '#day': 'day', '#at': 'at', '#reason': 'reason' },
          ExpressionAttributeValues: {
            ':day': day,
            ':since': new Date(q.sinceMs).toISOString(),
            ':pending': 'approval-pending',
          },
          ScanIndexForward: false,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const approvalId = ID_IN_DETAIL.exec(String(item.detail))?.[0];
        const stage = STAGE_OF.exec(String(item.functionName))?.[1];
        // A dry run's entry is `dry-run`, not `approval-pending`: every match names a recorded approval.
        if (approvalId && stage) out.push({ approvalId, stage });
      }
      start = res.LastEvaluatedKey;
    } while (start);
  }
  return out;
}

/** Pending and expired approvals since `sinceMs`, newest first, at most `limit`. */
export async function queryApprovals(
  client: DynamoDBDocumentClient,
  q: { table: string; sinceMs: number; nowMs: number; limit: number },
): Promise<ApprovalRow[]> {
  const rows: ApprovalRow[] = [];
  const nowS = Math.floor(q.nowMs / 1000);
  for (const { approvalId, stage } of await pendingEntries(client, q)) {
    if (rows.length >= q.limit) break;
    const res = await client.send(
      new GetCommand({
        TableName: q.table,
        Key: { id: `${sharedPrefixOf(stage, 'approval')}${approvalId}` },
      }),
    );
    const a = res.Item as PendingApproval | undefined;
    if (a?.status !== 'pending') continue;
    rows.push({
      approvalId,
      state: a.expiresAt > nowS ? 'pending' : 'expired',
      createdAt: new Date(a.createdAt * 1000).toISOString(),
      expiresAt: new Date(a.expiresAt * 1000).toISOString(),
      owner: a.owner,
      incidentKey: a.incidentKey,
      preview: a.preview,
    });
  }
  return rows;
}
