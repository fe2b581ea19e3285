import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AwsMocks } from '../../tools/awsMocks.ts';
import type { Latch } from './latch.ts';

type Item = Record<string, unknown>;

/** DynamoDB's answer to a failed condition, with the item when the request asked for it (ALL_OLD). */
export const conditionFailed = (item?: Item) =>
  Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    ...(item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {}),
  });

/** A shared approval record (`…#shared#approval#…`): a pending action, or the key a retry finds it by. */
export const isApprovalRecord = (id: unknown) => String(id).includes('#shared#approval#');

export interface ApprovalTable {
  /** The approval records by key: pending actions and their retry keys. */
  items: Map<string, Item>;
  /** Only the pending actions (type `approval`). */
  pending(): Item[];
  /** Reads of pending records so far. */
  reads(): number;
  /** Holds every read of an approval record until the latch opens. */
  holdReads(gate: Latch | undefined, onRead?: () => void): void;
  /** Answers a GetCommand of any other key (an owner's incident record). */
  otherReads(answer: (id: string) => Item | undefined): void;
  /** Refuses, as a failed condition, every UpdateCommand of another key `refuse` picks (a full rate guard). */
  refuseUpdates(refuse: (id: string) => boolean): void;
}

/**
 * The approval records in memory behind the mocked document client, with DynamoDB's conditional put
 * (`attribute_not_exists(id)`, or an expired retry key) and the two conditional updates of
 * shared/state/approvals.ts: decide (from pending, unexpired) and reopen (approved by this invocation).
 * Call in beforeEach, after aws.answerAsEmptyStateTable().
 */
export function approvalTable(aws: AwsMocks): ApprovalTable {
  const documents = aws.of(DynamoDBDocumentClient);
  const items = new Map<string, Item>();
  let reads = 0;
  let gate: Latch | undefined;
  let onRead: (() => void) | undefined;
  let other: (id: string) => Item | undefined = () => undefined;
  let refused: (id: string) => boolean = () => false;
  documents
    .on(PutCommand)
    .callsFake((input: { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Item }) => {
      const id = String(input.Item.id);
      if (!isApprovalRecord(id)) return {};
      const old = items.get(id);
      const now = Number(input.ExpressionAttributeValues?.[':now'] ?? 0);
      const expiredKey = input.ConditionExpression?.includes('expiresAt') && Number(old?.expiresAt) <= now;
      if (old && !expiredKey) throw conditionFailed(old);
      items.set(id, { ...input.Item });
      return {};
    });
  documents.on(GetCommand).callsFake(async (input: { Key: { id: string } }) => {
    if (!isApprovalRecord(input.Key.id)) {
      const item = other(input.Key.id);
      return item ? { Item: item } : {};
    }
    reads += 1;
    onRead?.();
    if (gate) await gate.opened;
    const item = items.get(input.Key.id);
    return item ? { Item: { ...item } } : {};
  });
  documents
    .on(UpdateCommand)
    .callsFake((input: { Key: { id: string }; ExpressionAttributeValues?: Record<string, unknown> }) => {
      if (!isApprovalRecord(input.Key.id)) {
        if (refused(input.Key.id)) throw conditionFailed();
        return { Attributes: { repeats: 0 } };
      }
      const item = items.get(input.Key.id);
      const v = input.ExpressionAttributeValues ?? {};
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
  return {
    items,
    pending: () => [...items.values()].filter((i) => i.type === 'approval'),
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
