import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
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

export type ClaimResult = { claimed: true } | { claimed: false; earlier?: RetryClaim };

/** Claims the one retry of `failedJobId` for this delivery; false (with the earlier claim) when another delivery holds it. */
export async function claimBackupRetry(failedJobId: string, correlationId: string): Promise<ClaimResult> {
  try {
    await documents.send(
      new UpdateCommand({
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
      }),
    );
    return { claimed: true };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    const earlier = await readClaim(failedJobId).catch(() => undefined);
    return { claimed: false, ...(earlier ? { earlier } : {}) };
  }
}

async function readClaim(failedJobId: string): Promise<RetryClaim | undefined> {
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

/** Records the retry job AWS started for `failedJobId`, under both records. */
export async function recordBackupRetry(failedJobId: string, retryJobId: string): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: stateTable(),
      Item: {
        id: retryJobKey(retryJobId),
        retryOf: failedJobId,
        at: nowSeconds(),
        expiration: nowSeconds() + RETENTION,
      },
    }),
  );
  await documents.send(
    new UpdateCommand({
      TableName: stateTable(),
      Key: { id: claimKey(failedJobId) },
      UpdateExpression: 'SET retryJobId = :rid',
      ExpressionAttributeValues: { ':rid': retryJobId },
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
