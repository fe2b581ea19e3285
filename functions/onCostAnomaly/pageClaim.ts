import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { skipped } from '#shared/domain/outcome.ts';
import { pageIdOf } from '#shared/domain/page.ts';
import { pageExecutorWith } from '#shared/executors/page.ts';
import { refusedByStopProtection } from '#shared/idle/report.ts';
import type { PageClaim } from '#shared/paging/claim.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from '#shared/state/table.ts';
import { dollars } from './signal.ts';
import { type AnomalyStopSection, detailsAfterStops } from './stopIdle.ts';

/**
 * One record per anomaly, and the only record its pages are claimed on: the largest impact paged so
 * far (in cents, so equal amounts compare equal), the delivery that paged it, the impact before it and
 * whether its page went out. An update pages only when its impact is larger; the claim is a conditional
 * write, so two deliveries of one update cannot both page it, and the write's old item says what was
 * paged before, so no read precedes it.
 */

/** Anomalies are updated for days: the record outlives any of them. */
const RETENTION = 90 * DAY;
/** Stored as `previousCents` when nothing was paged before (DynamoDB cannot SET an absent value). */
const NONE = -1;

export const cents = (dollarAmount: number): number => Math.round(dollarAmount * 100);

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

function pagedImpactOf(item: Record<string, unknown> | undefined): PagedImpact | undefined {
  if (typeof item?.pagedCents !== 'number' || typeof item.pagedBy !== 'string') return undefined;
  const previous = item.previousCents;
  return {
    impactCents: item.pagedCents,
    pagedBy: item.pagedBy,
    sent: typeof item.sentAt === 'number',
    ...(typeof previous === 'number' && previous !== NONE ? { previousCents: previous } : {}),
  };
}

/**
 * The largest impact paged for the anomaly, if any (read-only): gather reads it only on a stage whose
 * anomalies may stop instances, since the stops are decided (and made) before the page is claimed.
 */
export async function lastPagedImpact(anomalyId: string): Promise<PagedImpact | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: keyOf(anomalyId) }, ConsistentRead: true }),
  );
  return pagedImpactOf(res.Item);
}

/** A page about one anomaly, at one impact: what the executor claims before it pages. */
export interface AnomalyPageIntent extends PageIntent {
  /** `previousCents`: the impact an update follows, when the plan knew it (its wording says so). */
  anomaly: { id: string; impactCents: number; previousCents?: number };
  /** What the idle-stop lines are rendered from, again once the stops ran (stopIdle.ts). */
  idleStops?: AnomalyStopSection;
}

/**
 * The page of an update, worded as one: the impact before it, and the change. Pure; the plan words an
 * update it knows of, the claim one it finds.
 */
export function asUpdate(intent: AnomalyPageIntent, previousCents: number): AnomalyPageIntent {
  const previous = previousCents / 100;
  const now = intent.anomaly.impactCents / 100;
  const change = `+${dollars(now - previous)}`;
  return {
    ...intent,
    content: {
      ...intent.content,
      title: `Update: ${intent.content.title}`,
      evidence: { ...intent.content.evidence, previouslyPaged: dollars(previous), change },
      reason: `Update: the total impact rose from ${dollars(previous)} (paged before) to ${dollars(now)} (${change}). ${intent.content.reason}`,
    },
    anomaly: { ...intent.anomaly, previousCents },
  };
}

/** The claim's write: this impact's, when it is larger than any paged; the old item either way. */
async function claimImpact(intent: AnomalyPageIntent): Promise<{ claimed: boolean; old?: PagedImpact }> {
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: keyOf(intent.anomaly.id) },
        ConditionExpression: 'attribute_not_exists(pagedCents) OR pagedCents < :c',
        UpdateExpression:
          'SET previousCents = if_not_exists(pagedCents, :none), pagedCents = :c, pagedBy = :cid, expiration = :ttl REMOVE sentAt',
        ExpressionAttributeValues: {
          ':c': intent.anomaly.impactCents,
          ':cid': intent.correlationId,
          ':none': NONE,
          ':ttl': nowSeconds() + RETENTION,
        },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const old = pagedImpactOf(res.Attributes);
    return { claimed: true, ...(old ? { old } : {}) };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    // The document client leaves the error's item as DynamoDB sent it.
    const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    const old = pagedImpactOf(item ? unmarshall(item) : undefined);
    return { claimed: false, ...(old ? { old } : {}) };
  }
}

/**
 * The anomaly's impact (onCostAnomaly): a page only for an impact larger than any paged before, or
 * this delivery's own retry until its page is recorded as sent; each impact has its own page id.
 */
export const anomalyImpactClaim: PageClaim<AnomalyPageIntent> = {
  describe: (intent) => `the page of anomaly ${intent.anomaly.id}`,
  async claim(intent) {
    const { claimed, old } = await claimImpact(intent);
    const ownRetry =
      !claimed && old?.pagedBy === intent.correlationId && old.impactCents === intent.anomaly.impactCents;
    if (!claimed && !(ownRetry && !old?.sent)) {
      const paged = old ? dollars(old.impactCents / 100) : 'an equal or larger impact';
      return {
        send: false,
        outcome: skipped(
          intent.kind,
          'suppressed',
          ownRetry
            ? `this delivery already paged anomaly ${intent.anomaly.id}`
            : `anomaly ${intent.anomaly.id} was paged at ${paged}; this update (${dollars(intent.anomaly.impactCents / 100)}) is not larger: counted, not paged`,
        ),
      };
    }
    // The impact this page follows: the one it replaced, or, on this delivery's retry, the one its
    // first attempt replaced (kept with the claim).
    const previous = claimed ? old?.impactCents : old?.previousCents;
    const worded =
      intent.anomaly.previousCents === undefined && previous !== undefined
        ? asUpdate(intent, previous)
        : intent;
    return {
      send: true,
      repeats: 0,
      // Per impact and claiming delivery: a retry of this delivery sends the same page id.
      pageId: pageIdOf(intent.incidentKey, 'incident', intent.correlationId),
      verb: 'paged',
      intent: worded,
    };
  },
  async markSent(intent) {
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
  },
  // The claim stays with this delivery: its retry (Lambda's) pages this impact again, and an update
  // with a larger impact claims over it. Undoing it would need the replaced impact back, for nothing.
  release: async () => undefined,
};

const claimedPageExecutor = pageExecutorWith(anomalyImpactClaim);

/**
 * The one page executor, claiming each larger impact of an anomaly once. Its idle-stop lines are those
 * of the stops as they turned out: a stop refused for stop protection is excluded (stopIdle.ts).
 */
export const anomalyPageExecutor: typeof claimedPageExecutor = {
  ...claimedPageExecutor,
  execute(intent, ctx) {
    const { idleStops, ...page } = intent;
    if (!idleStops) return claimedPageExecutor.execute(page, ctx);
    const refused = refusedByStopProtection(ctx.prior);
    const details = detailsAfterStops(page.content.details ?? [], idleStops, refused);
    return claimedPageExecutor.execute({ ...page, content: { ...page.content, details } }, ctx);
  },
};
