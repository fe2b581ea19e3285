import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import type { TransactUpdate } from './rateGuard.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from './table.ts';

/**
 * At most one retry per failed backup job (onBackupFailure). Two records:
 * - `backup-retry#<failed job id>`: the claim, written with a condition before StartBackupJob, so of
 *   concurrent deliveries of one failure only one starts a retry (a retry of that same delivery keeps
 *   its claim, and StartBackupJob's idempotency token returns the same job);
 * - `backup-retry-job#<retry job id>`: which failed job a retry job retries, written as soon as
 *   StartBackupJob names the new job (long before it can fail), so its failure pages "retry failed"
 *   and is not retried again.
 */

/** Backup jobs fail within their windows (hours to days): the records outlive any of them. */
const RETENTION = 90 * DAY;

const claimKey = (failedJobId: string) => stateKey('backup-retry', failedJobId);
const retryJobKey = (retryJobId: string) => stateKey('backup-retry-job', retryJobId);

export interface RetryClaim {
  failedJobId: string;
  claimedBy: string;
  /** Epoch seconds. */
  claimedAt: number;
  retryJobId?: string;
}

export type ClaimResult =
  | { claimed: true }
  | { claimed: false; earlier?: RetryClaim }
  /** The rate guard's window is full: nothing claimed. */
  | { claimed: false; rateLimited: true };

/** The one condition of a transaction's items that failed, by position. */
function cancelledAt(error: unknown): number | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  const at = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
  return at < 0 ? undefined : at;
}

/**
 * Claims the one retry of `failedJobId` for this delivery; false (with the earlier claim) when another
 * delivery holds it. With the rate guard's slot (rateSlotUpdate), both are claimed in one transaction:
 * both hold or neither, in one round trip.
 */
export async function claimBackupRetry(
  failedJobId: string,
  correlationId: string,
  rateSlot?: TransactUpdate,
): Promise<ClaimResult> {
  const claim: TransactUpdate = {
    TableName: stateTable(),
    Key: { id: claimKey(failedJobId) },
    ConditionExpression: 'attribute_not_exists(id) OR claimedBy = :cid',
    UpdateExpression:
      'SET failedJobId = :job, claimedBy = :cid, claimedAt = if_not_exists(claimedAt, :now), expiration = :ttl',
    ExpressionAttributeValues: {
      ':job': failedJobId,
      ':cid': correlationId,
      ':now': nowSeconds(),
      ':ttl': nowSeconds() + RETENTION,
    },
  };
  try {
    if (rateSlot) {
      // The slot first: a full window refuses the retry before its claim is looked at.
      await documents.send(
        new TransactWriteCommand({ TransactItems: [{ Update: rateSlot }, { Update: claim }] }),
      );
    } else {
      await documents.send(new UpdateCommand(claim));
    }
    return { claimed: true };
  } catch (error) {
    const at = cancelledAt(error);
    if (at === 0 && rateSlot) return { claimed: false, rateLimited: true };
    if (!isConditionalFailure(error) && at === undefined) throw error;
    const earlier = await readRetryClaim(failedJobId).catch(() => undefined);
    return { claimed: false, ...(earlier ? { earlier } : {}) };
  }
}

/** The retry claimed for `failedJobId`, when one was (read-only: approveAction's re-check, as the owner). */
export async function readRetryClaim(failedJobId: string): Promise<RetryClaim | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: claimKey(failedJobId) }, ConsistentRead: true }),
  );
  const item = res.Item;
  if (typeof item?.claimedBy !== 'string' || typeof item.claimedAt !== 'number') return undefined;
  return {
    failedJobId,
    claimedBy: item.claimedBy,
    claimedAt: item.claimedAt,
    ...(typeof item.retryJobId === 'string' ? { retryJobId: item.retryJobId } : {}),
  };
}

/** Records the retry job AWS started for `failedJobId`, under both records, in one round trip. */
export async function recordBackupRetry(failedJobId: string, retryJobId: string): Promise<void> {
  await documents.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: stateTable(),
            Item: {
              id: retryJobKey(retryJobId),
              retryOf: failedJobId,
              at: nowSeconds(),
              expiration: nowSeconds() + RETENTION,
            },
          },
        },
        {
          Update: {
            TableName: stateTable(),
            Key: { id: claimKey(failedJobId) },
            UpdateExpression: 'SET retryJobId = :rid',
            ExpressionAttributeValues: { ':rid': retryJobId },
          },
        },
      ],
    }),
  );
}

/** The failed job `jobId` retries, when it is a retry this function started (read-only, for gather). */
export async function retryOf(jobId: string): Promise<string | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: retryJobKey(jobId) }, ConsistentRead: true }),
  );
  return typeof res.Item?.retryOf === 'string' ? res.Item.retryOf : undefined;
}
