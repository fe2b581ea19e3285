import { type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { isConditionalFailure, stateKey, stateTable } from './table.ts';

/**
 * The rate guard's count of one rule's mutating actions in one fixed window. An action is claimed with
 * a conditional write before it runs, keyed by the action's own idempotency id (a runbook's ClientToken,
 * an idle scan's run, a CloudTrail record), so a retry or a duplicate delivery of the same action keeps
 * its slot instead of taking a second one, and concurrent deliveries cannot exceed the limit.
 */
export interface RateWindow {
  rule: string;
  maxActions: number;
  windowSeconds: number;
  /** Epoch ms the window is computed from (now, in production). */
  atMs: number;
  /**
   * The member account the action is in, on an organization's stage: each account counts in a window of
   * its own, so one member's storm cannot use another's. Absent for the account the stack runs in.
   */
  account?: string;
}

export interface RateClaim {
  allowed: boolean;
  /** Epoch seconds the window began and ends. */
  windowStart: number;
  windowEnd: number;
}

/** Fixed windows from the epoch: every delivery of one rule counts in the same record. */
export function windowOf(w: Pick<RateWindow, 'windowSeconds' | 'atMs'>): { start: number; end: number } {
  const start = Math.floor(w.atMs / 1000 / w.windowSeconds) * w.windowSeconds;
  return { start, end: start + w.windowSeconds };
}

const recordKey = (rule: string, windowStart: number, account?: string) =>
  account ? stateKey('rate-guard', rule, account, windowStart) : stateKey('rate-guard', rule, windowStart);

/** One write of a transaction (document client form). */
export type TransactUpdate = NonNullable<
  NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Update']
>;

/**
 * The claim of a slot for `actionId` in the rule's current window, as one conditional update: alone
 * (claimRateSlot) or inside the transaction of the action's own claim, so both hold or neither.
 */
export function rateSlotUpdate(w: RateWindow, actionId: string): TransactUpdate {
  const { start, end } = windowOf(w);
  return {
    TableName: stateTable(),
    Key: { id: recordKey(w.rule, start, w.account) },
    // Adding an id the set holds already changes nothing: a retry is not counted twice.
    UpdateExpression: 'ADD actions :action SET #rule = :rule, expiration = :expiration',
    ConditionExpression: 'attribute_not_exists(actions) OR contains(actions, :id) OR size(actions) < :max',
    ExpressionAttributeNames: { '#rule': 'rule' },
    ExpressionAttributeValues: {
      ':action': new Set([actionId]),
      ':id': actionId,
      ':max': w.maxActions,
      ':rule': w.rule,
      // Kept a window past its end, for whoever reads why an action was refused.
      ':expiration': end + w.windowSeconds,
    },
  };
}

/** Claims a slot for `actionId` in the rule's current window; refused once the window holds maxActions others. */
export async function claimRateSlot(w: RateWindow, actionId: string): Promise<RateClaim> {
  const { start, end } = windowOf(w);
  try {
    await documents.send(new UpdateCommand(rateSlotUpdate(w, actionId)));
    return { allowed: true, windowStart: start, windowEnd: end };
  } catch (error) {
    if (isConditionalFailure(error)) return { allowed: false, windowStart: start, windowEnd: end };
    throw error;
  }
}

/**
 * Whether this delivery sends the "rate guard tripped" page of the rule's window: the first refused
 * delivery claims it, and only it (or its own retry) pages, so a storm of refusals pages once.
 */
export async function claimTripNotice(
  rule: string,
  windowStart: number,
  correlationId: string,
  account?: string,
): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: recordKey(rule, windowStart, account) },
        UpdateExpression: 'SET trippedBy = :me',
        ConditionExpression:
          'attribute_exists(actions) AND (attribute_not_exists(trippedBy) OR trippedBy = :me)',
        ExpressionAttributeValues: { ':me': correlationId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw error;
  }
}
