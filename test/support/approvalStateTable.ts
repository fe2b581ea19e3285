import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Latch } from './latch.ts';

/**
 * The state table of a handler test where a function records a pending approval and approveAction
 * decides it: an in-memory table behind the mocked document client that honours the conditions the code
 * sends (a new record, the stop budget's version, the approval's decide and reopen), each atomic, so a
 * race ordered by a latch shows what DynamoDB would do. Any other update answers as a fresh counter.
 */
export type Item = Record<string, unknown>;

export interface ApprovalStateTable {
  items: Map<string, Item>;
  /** The approval records, by approval id. */
  approval(approvalId: string): Item | undefined;
  approvals(): Item[];
  /** Set to hold every read of an approval until it opens; `onApprovalRead` counts them. */
  holdApprovalReads?: Latch;
  onApprovalRead?: (reads: number) => void;
  /** Set to refuse every rate-guard slot (shared/state/rateGuard.ts), as a full window does. */
  rateGuardFull?: boolean;
}

/** A record under the approval prefix: a pending action, or the key record that keeps a retry to one. */
const isApprovalKey = (id: unknown) => String(id).includes('#shared#approval#');
// The pending action itself, not the key record beside it that keeps a retried delivery to one approval.
const isApproval = (item: Item) => isApprovalKey(item.id) && item.type === 'approval';

/** DynamoDB's answer to a failed condition. */
const conditionFailed = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

export function approvalStateTable(documents: AwsClientStub<DynamoDBDocumentClient>): ApprovalStateTable {
  const items = new Map<string, Item>();
  let approvalReads = 0;
  const table: ApprovalStateTable = {
    items,
    approval: (approvalId) => [...items.values()].find((i) => i.approvalId === approvalId && isApproval(i)),
    approvals: () => [...items.values()].filter((i) => isApproval(i)),
  };
  documents
    .on(PutCommand)
    .callsFake((input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
      const id = String(input.Item.id);
      const current = items.get(id);
      if (input.ConditionExpression === 'attribute_not_exists(id)' && current) throw conditionFailed();
      if (
        input.ConditionExpression === 'version = :version' &&
        current?.version !== input.ExpressionAttributeValues?.[':version']
      ) {
        throw conditionFailed();
      }
      items.set(id, structuredClone(input.Item));
      return {};
    });
  documents.on(GetCommand).callsFake(async (input: { Key: { id: string } }) => {
    if (isApprovalKey(input.Key.id)) {
      approvalReads += 1;
      table.onApprovalRead?.(approvalReads);
      if (table.holdApprovalReads) await table.holdApprovalReads.opened;
    }
    const item = items.get(input.Key.id);
    return item ? { Item: structuredClone(item) } : {};
  });
  documents
    .on(UpdateCommand)
    .callsFake((input: { Key: { id: string }; ExpressionAttributeValues?: Item }) => {
      if (!isApprovalKey(input.Key.id)) {
        if (table.rateGuardFull && input.ExpressionAttributeValues?.[':max'] !== undefined)
          throw conditionFailed();
        return { Attributes: { repeats: 0 } };
      }
      const item = items.get(input.Key.id);
      const v = input.ExpressionAttributeValues ?? {};
      // The two conditional updates of shared/state/approvals.ts: decide (from pending), reopen.
      if (v[':to'] !== undefined) {
        if (item?.status !== 'pending' || Number(item.expiresAt) <= Number(v[':now']))
          throw conditionFailed();
        Object.assign(item, {
          status: v[':to'],
          decidedBy: v[':by'],
          decidedAt: v[':now'],
          decidedIn: v[':in'],
        });
        if (v[':reason']) item.decisionReason = v[':reason'];
      } else {
        if (item?.status !== 'approved' || item.decidedIn !== v[':in']) throw conditionFailed();
        item.status = 'pending';
      }
      return {};
    });
  return table;
}
