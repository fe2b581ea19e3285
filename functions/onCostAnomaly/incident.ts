import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { failed, skipped } from '#shared/domain/outcome.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { NotifyingExecutor } from '#shared/executors/types.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from '#shared/state/table.ts';

/**
 * One incident per anomaly id: the record holds the largest impact paged so far (in cents, so equal
 * amounts compare equal) and the delivery that paged it. An update pages only when its impact is larger;
 * the claim is a conditional write, so two deliveries of one update cannot both page it.
 */

/** Anomalies are updated for days: the record outlives any of them. */
const RETENTION = 90 * DAY;

export const cents = (dollars: number): number => Math.round(dollars * 100);

export interface PagedImpact {
  impactCents: number;
  pagedBy: string;
  /** Set once the page for this impact went out. */
  sent: boolean;
  /**
   * The impact paged before this one, when this one was an update: a retry of the update's delivery
   * reads it to page the same update again (its own claim has replaced the earlier impact).
   */
  previousCents?: number;
}

const keyOf = (anomalyId: string) => stateKey('cost-anomaly', anomalyId);

/** The largest impact paged for the anomaly, if any (read-only, for gather). */
export async function lastPagedImpact(anomalyId: string): Promise<PagedImpact | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: keyOf(anomalyId) }, ConsistentRead: true }),
  );
  const item = res.Item;
  if (typeof item?.pagedCents !== 'number' || typeof item.pagedBy !== 'string') return undefined;
  return {
    impactCents: item.pagedCents,
    pagedBy: item.pagedBy,
    sent: typeof item.sentAt === 'number',
    ...(typeof item.previousCents === 'number' ? { previousCents: item.previousCents } : {}),
  };
}

/** A page about one anomaly, at one impact: what the executor claims before it pages. */
export interface AnomalyPageIntent extends PageIntent {
  /** `previousCents`: the impact an update follows, kept with the claim for a retry of this delivery. */
  anomaly: { id: string; impactCents: number; previousCents?: number };
}

/** Claims the anomaly's page at this impact: false when an equal or larger one was already claimed by another delivery. */
async function claim(intent: AnomalyPageIntent): Promise<boolean> {
  const previous = intent.anomaly.previousCents;
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: keyOf(intent.anomaly.id) },
        // A retry of the delivery that claimed this impact pages again (its page may not have gone out).
        ConditionExpression:
          'attribute_not_exists(pagedCents) OR pagedCents < :c OR (pagedCents = :c AND pagedBy = :cid)',
        UpdateExpression:
          previous === undefined
            ? 'SET pagedCents = :c, pagedBy = :cid, expiration = :ttl REMOVE sentAt, previousCents'
            : 'SET pagedCents = :c, pagedBy = :cid, expiration = :ttl, previousCents = :p REMOVE sentAt',
        ExpressionAttributeValues: {
          ':c': intent.anomaly.impactCents,
          ':cid': intent.correlationId,
          ':ttl': nowSeconds() + RETENTION,
          ...(previous === undefined ? {} : { ':p': previous }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw error;
  }
}

async function markSent(intent: AnomalyPageIntent): Promise<void> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: keyOf(intent.anomaly.id) },
        ConditionExpression: 'pagedBy = :cid AND pagedCents = :c',
        UpdateExpression: 'SET sentAt = :now',
        ExpressionAttributeValues: {
          ':cid': intent.correlationId,
          ':c': intent.anomaly.impactCents,
          ':now': nowSeconds(),
        },
      }),
    );
  } catch (error) {
    // A larger update claimed it meanwhile, or the write failed: the page is out either way.
    logger.warn('anomaly page sent but not recorded as sent', { anomalyId: intent.anomaly.id, error });
  }
}

/**
 * The shared page executor behind the anomaly's claim: a page only for an impact larger than any paged
 * before (or this delivery's own retry), and the page executor's own window and page id per impact.
 */
export const anomalyPageExecutor: NotifyingExecutor<AnomalyPageIntent> = {
  kind: 'sns.page',
  metrics: pageExecutor.metrics ?? {},
  permissions: pageExecutor.permissions,
  mutates: false,
  async execute(intent, ctx) {
    let claimed: boolean;
    try {
      claimed = await claim(intent);
    } catch (error) {
      // The state table could not decide: failing makes Lambda retry the delivery, nothing is lost.
      return failed(intent.kind, error, `could not claim the page of anomaly ${intent.anomaly.id}`);
    }
    if (!claimed) {
      return skipped(
        intent.kind,
        'suppressed',
        `anomaly ${intent.anomaly.id} was already paged at an impact of $${(intent.anomaly.impactCents / 100).toFixed(2)} or more; counted, not paged`,
      );
    }
    const outcome = await pageExecutor.execute(intent, ctx);
    if (outcome.status === 'done') await markSent(intent);
    return outcome;
  },
};
