import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AwsMocks } from '../../tools/awsMocks.ts';
import type { Latch } from './latch.ts';

export type Item = Record<string, unknown>;

/** DynamoDB's answer to a failed condition, with the item when the request asked for it (ALL_OLD). */
export const conditionFailed = (item?: Item) =>
  Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    ...(item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {}),
  });

/** A shared approval record (`…#shared#approval#…`): a pending action, or the key a retry finds it by. */
export const isApprovalRecord = (id: unknown) => String(id).includes('#shared#approval#');
/** The pending action itself, not the key record beside it that keeps a retried delivery to one approval. */
const isApproval = (item: Item) => isApprovalRecord(item.id) && item.type === 'approval';

export interface ApprovalTable {
  /** Every record written, by key: the approval records and the others (the stop budget, say). */
  items: Map<string, Item>;
  /** The approval records only: pending actions and their retry keys. */
  approvalRecords(): Item[];
  /** The pending actions (type `approval`), whatever their status now. */
  approvals(): Item[];
  /** One pending action, by approval id. */
  approval(approvalId: string): Item | undefined;
  /** Reads of approval records so far. */
  reads(): number;
  /** Holds every read of an approval record until the latch opens; `onRead` gets the reads so far. */
  holdReads(gate: Latch | undefined, onRead?: (reads: number) => void): void;
  /** Answers a GetCommand of a key nothing was written to (an owner's incident record, say). */
  otherReads(answer: (id: string) => Item | undefined): void;
  /**
   * Refuses, as a failed condition, every UpdateCommand of a non-approval key `refuse` picks: a full
   * rate guard (its slot's key, or any update whose values carry the slot's `:max`).
   */
  refuseUpdates(refuse: (id: string, values: Item) => boolean): void;
}

/**
 * The state table of a handler test where a function records a pending approval and approveAction
 * decides it: an in-memory table behind the mocked document client that honours the conditions the code
 * sends, each atomic, so a race ordered by a latch shows what DynamoDB would do:
 * - an approval record's conditional put (a new id, or a retry key that expired), refused with the
 *   item (ALL_OLD) as shared/state/approvals.ts asks;
 * - any other put's `attribute_not_exists(id)` and the stop budget's `version = :version`;
 * - the two conditional updates of shared/state/approvals.ts: decide (from pending, unexpired) and
 *   reopen (approved by this invocation). Any other update answers as a fresh counter.
 * Call in beforeEach, after aws.answerAsEmptyStateTable().
 */
export function approvalTable(aws: AwsMocks): ApprovalTable {
  const documents = aws.of(DynamoDBDocumentClient);
  const items = new Map<string, Item>();
  let reads = 0;
  let gate: Latch | undefined;
  let onRead: ((reads: number) => void) | undefined;
  let other: (id: string) => Item | undefined = () => undefined;
  let refused: (id: string, values: Item) => boolean = () => false;
  documents
    .on(PutCommand)
    .callsFake((input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
      const id = String(input.Item.id);
      const old = items.get(id);
      if (isApprovalRecord(id)) {
        const now = Number(input.ExpressionAttributeValues?.[':now'] ?? 0);
        const expiredKey = input.ConditionExpression?.includes('expiresAt') && Number(old?.expiresAt) <= now;
        if (old && !expiredKey) throw conditionFailed(old);
      } else if (input.ConditionExpression === 'attribute_not_exists(id)' && old) {
        throw conditionFailed();
      } else if (
        input.ConditionExpression === 'version = :version' &&
        old?.version !== input.ExpressionAttributeValues?.[':version']
      ) {
        throw conditionFailed();
      }
      items.set(id, structuredClone(input.Item));
      return {};
    });
  documents.on(GetCommand).callsFake(async (input: { Key: { id: string } }) => {
    if (isApprovalRecord(input.Key.id)) {
      reads += 1;
      onRead?.(reads);
      if (gate) await gate.opened;
    }
    const item = items.get(input.Key.id) ?? other(input.Key.id);
    return item ? { Item: structuredClone(item) } : {};
  });
  documents
    .on(UpdateCommand)
    .callsFake((input: { Key: { id: string }; ExpressionAttributeValues?: Item }) => {
      const v = input.ExpressionAttributeValues ?? {};
      if (!isApprovalRecord(input.Key.id)) {
        if (refused(input.Key.id, v)) throw conditionFailed();
        return { Attributes: { repeats: 0 } };
      }
      const item = items.get(input.Key.id);
      if (v[':to'] !== undefined) {
        if (item?.status !== 'pending' || Number(item.expiresAt) <= Number(v[':now']))
          throw conditionFailed();
        Object.assign(item, {
          status: v[':to'],
          decidedBy: v[':by'],
          decidedAt: v[':now'],
          decidedIn: v[':in'],
        });
        if (v[':chat']) item.chatUser = v[':chat'];
        if (v[':reason']) item.decisionReason = v[':reason'];
      } else {
        if (item?.status !== 'approved' || item.decidedIn !== v[':in']) throw conditionFailed();
        item.status = 'pending';
      }
      return {};
    });
  const approvals = () => [...items.values()].filter(isApproval);
  return {
    items,
    approvalRecords: () => [...items.values()].filter((i) => isApprovalRecord(i.id)),
    approvals,
    approval: (approvalId) => approvals().find((i) => i.approvalId === approvalId),
    reads: () => reads,
    holdReads(latch, callback) {
      gate = latch;
      onRead = callback;
    },
    otherReads(answer) {
      other = answer;
    },
    refuseUpdates(refuse) {
      refused = refuse;
    },
  };
}
