import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { config } from '#shared/config.ts';
import { sharedPrefixOf } from './sharedRecords.ts';
import { DAY, isConditionalFailure, nowSeconds, stateTable } from './table.ts';

/**
 * A pending action: a mutation a plan asked for that waits for a person's approval. The acting function
 * writes it (`ops-autopilot-<stage>#shared#approval#<approval id>`, a shared record), approveAction
 * decides it once, by a conditional write from `pending`. DynamoDB's TTL removes it a week after it
 * expired, so `npm run decisions` can still list expired ones.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected';

/** How long a decided or expired approval stays readable (why an id was refused, `npm run decisions`). */
export const APPROVAL_RETENTION_SECONDS = 7 * DAY;

export interface PendingApproval {
  approvalId: string;
  status: ApprovalStatus;
  stage: string;
  /** The registered function that planned it, whose executor runs it (`onAlarm`). */
  owner: string;
  /** Its deployed name, the prefix of the records its executor claims (`ops-autopilot-<stage>-onAlarm`). */
  ownerFunction: string;
  incidentKey: string;
  /** The rule or detection that asked for approval (its rate guard rule). */
  rule: string;
  correlationId: string;
  /** The intent, exactly as planned (JSON). */
  intent: string;
  /** The signal it was planned from (JSON): its evidence, and what the executor and pages read. */
  signal: string;
  /** What the executor would do, after "would ". */
  preview: string;
  /** The owner's configuration its executor reads besides the shared keys (JSON), e.g. runbook limits. */
  settings: string;
  /** What approveAction checks again before it acts (JSON, shared/approval/recheck.ts). */
  recheck: string;
  createdAt: number;
  /** Epoch seconds after which it can no longer be approved. */
  expiresAt: number;
  decidedBy?: string;
  chatUser?: string;
  decidedAt?: number;
  decisionReason?: string;
  /** The approveAction invocation that decided it. */
  decidedIn?: string;
}

export const approvalKey = (stage: string, approvalId: string): string =>
  `${sharedPrefixOf(stage, 'approval')}${approvalId}`;

/**
 * What one pending action is, whichever delivery records it: the owning function, the event (its
 * correlation id), the incident and the intent. A retried delivery of the same event plans the same
 * intent, so it finds the pending action its first attempt recorded.
 */
export interface PendingActionOf {
  ownerFunction: string;
  correlationId: string;
  incidentKey: string;
  intent: string;
}

/** The record that maps a pending action to its approval id: under the approval prefix, so no new grant. */
const retryKeyOf = (stage: string, of: PendingActionOf): string =>
  `${sharedPrefixOf(stage, 'approval')}for-${createHash('sha256')
    .update(JSON.stringify([of.ownerFunction, of.correlationId, of.incidentKey, of.intent]))
    .digest('hex')}`;

/** The approval id a pending action is recorded under, and until when it may be approved. */
export interface ApprovalSlot {
  approvalId: string;
  expiresAt: number;
}

/**
 * The approval of this pending action: `fresh` when none is recorded (or the one recorded has expired),
 * else the one an earlier attempt of the delivery recorded. One conditional put, whose refusal returns
 * the record it found (ALL_OLD), so the acting role needs no read of the approval prefix.
 */
export async function approvalSlotFor(of: PendingActionOf, fresh: ApprovalSlot): Promise<ApprovalSlot> {
  const now = nowSeconds();
  try {
    await documents.send(
      new PutCommand({
        TableName: stateTable(),
        Item: {
          id: retryKeyOf(config().stage, of),
          type: 'approval-of-action',
          ...fresh,
          expiration: fresh.expiresAt + APPROVAL_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(id) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': now },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return fresh;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    const found = item ? unmarshall(item) : undefined;
    if (typeof found?.approvalId !== 'string' || typeof found.expiresAt !== 'number') {
      throw new Error('an approval is recorded for this action, but DynamoDB did not return it');
    }
    return { approvalId: found.approvalId, expiresAt: found.expiresAt };
  }
}

/**
 * Records a pending approval. An id is random, so a clash is refused by the condition, except for the
 * id an earlier attempt of the same delivery recorded (`again`): that record is already there.
 */
export async function recordPendingApproval(
  approval: Omit<PendingApproval, 'status' | 'stage' | 'createdAt'>,
  again = false,
): Promise<PendingApproval> {
  const stage = config().stage;
  const record: PendingApproval = { ...approval, status: 'pending', stage, createdAt: nowSeconds() };
  try {
    await documents.send(
      new PutCommand({
        TableName: stateTable(),
        Item: {
          id: approvalKey(stage, approval.approvalId),
          type: 'approval',
          ...record,
          expiration: approval.expiresAt + APPROVAL_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  } catch (error) {
    if (!(again && isConditionalFailure(error))) throw error;
  }
  return record;
}

/** The approval of this stage with that id, or undefined when there is none (unknown, or long gone). */
export async function readApproval(approvalId: string): Promise<PendingApproval | undefined> {
  const res = await documents.send(
    new GetCommand({
      TableName: stateTable(),
      Key: { id: approvalKey(config().stage, approvalId) },
      ConsistentRead: true,
    }),
  );
  return res.Item as PendingApproval | undefined;
}

export interface Decision {
  status: Exclude<ApprovalStatus, 'pending'>;
  decidedBy: string;
  chatUser?: string;
  reason?: string;
  decidedIn: string;
}

/**
 * Decides a pending approval: one conditional write from `pending`, before anything is executed, so
 * two approvals of one id (twice, or at the same time) act once. False when it was no longer pending or
 * has expired (the loser of a race).
 */
export async function decideApproval(approvalId: string, decision: Decision): Promise<boolean> {
  const now = nowSeconds();
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: approvalKey(config().stage, approvalId) },
        UpdateExpression:
          'SET #status = :to, decidedBy = :by, decidedAt = :now, decidedIn = :in' +
          (decision.chatUser ? ', chatUser = :chat' : '') +
          (decision.reason ? ', decisionReason = :reason' : ''),
        ConditionExpression: '#status = :pending AND expiresAt > :now',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': decision.status,
          ':by': decision.decidedBy,
          ':now': now,
          ':in': decision.decidedIn,
          ':pending': 'pending',
          ...(decision.chatUser ? { ':chat': decision.chatUser } : {}),
          ...(decision.reason ? { ':reason': decision.reason } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw error;
  }
}

/**
 * Puts an approval this invocation approved back to pending: its action was refused by a limit that
 * passes (the rate guard), so a person may approve it again before it expires.
 */
export async function reopenApproval(approvalId: string, decidedIn: string): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: approvalKey(config().stage, approvalId) },
        UpdateExpression:
          'SET #status = :pending REMOVE decidedBy, decidedAt, decidedIn, chatUser, decisionReason',
        ConditionExpression: '#status = :approved AND decidedIn = :in',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending', ':approved': 'approved', ':in': decidedIn },
      }),
    );
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
}
