import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '#shared/aws/sns.ts';
import { type PageChannel, renderForChannel } from '#shared/domain/channels.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import { type PageContext, pageIdOf, type RenderedPage, renderPage } from '#shared/domain/page.ts';
import type { Severity } from '#shared/domain/severity.ts';
import { parseAwsTimestamp } from '#shared/domain/time.ts';
import { deduplicationIsOn } from '#shared/runtime/deduplication.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { channelSent, markChannelSent } from '#shared/state/pageChannels.ts';
import {
  claimResolve,
  markPageSent,
  markResolveSent,
  openWindow,
  releaseResolve,
  releaseWindow,
} from '#shared/state/suppression.ts';
import type { ExecutionContext, Executor } from './types.ts';

const RESOLVE_WAITS = 4;
const RESOLVE_WAIT_MS = 250;
const MARK_ATTEMPTS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publish(page: RenderedPage, topicArn: string, message = page.body): Promise<string> {
  const res = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: page.subject,
      Message: message,
      MessageAttributes: Object.fromEntries(
        Object.entries(page.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
    }),
  );
  return res.MessageId ?? 'unknown';
}

type Claim =
  | {
      send: true;
      repeats: number;
      pageId: string;
      resolvesPageId?: string;
      reopened?: boolean;
      incidentSeverity?: Severity;
    }
  | { send: false; outcome: Outcome };

/**
 * Whether a failed Publish may still have reached SNS: no answer at all (connection lost, timeout,
 * aborted) or a server error. A 4xx answer (throttled, not found, not authorized) means it was not sent.
 */
export function mayHaveBeenPublished(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === undefined || status >= 500;
}

/** How one kind of notice claims its slot in the state table, and undoes the claim if it cannot be sent. */
interface NoticeSlot {
  claim(): Promise<Claim>;
  markSent(): Promise<void>;
  release(): Promise<void>;
  sentVerb: string;
}

function slotFor(intent: PageIntent, ctx: ExecutionContext): NoticeSlot {
  const { incidentKey, correlationId } = intent;
  const occurredAtMs = parseAwsTimestamp(intent.occurredAt);
  if (intent.notice === 'incident' && !deduplicationIsOn()) {
    // Storm bench only (see deduplicationIsOn): every delivery pages, nothing is recorded.
    return {
      claim: async () => ({
        send: true,
        repeats: 0,
        pageId: pageIdOf(incidentKey, 'incident', correlationId),
      }),
      markSent: async () => undefined,
      release: async () => undefined,
      sentVerb: 'paged',
    };
  }
  if (intent.notice === 'incident') {
    return {
      async claim() {
        const d = await openWindow({
          incidentKey,
          correlationId,
          windowSeconds: ctx.config.paging.suppressionWindowMinutes * 60,
          severity: intent.severity,
          occurredAtMs,
        });
        if (d.action === 'page') {
          return {
            send: true,
            repeats: d.repeatsBefore,
            // This delivery opened the incident (or is the retry of the one that did).
            pageId: pageIdOf(incidentKey, 'incident', correlationId),
            reopened: d.reopened,
          };
        }
        if (d.action === 'stale') {
          return { send: false, outcome: skipped(intent.kind, 'already-recovered', `not paged: ${d.why}`) };
        }
        const note = d.counted ? '' : ' (this delivery was counted before)';
        return {
          send: false,
          outcome: skipped(
            intent.kind,
            'suppressed',
            `already paged for ${incidentKey} in this window; ${d.repeats} repeat(s) counted${note}`,
          ),
        };
      },
      markSent: () => markPageSent(incidentKey, correlationId),
      release: () => releaseWindow(incidentKey, correlationId),
      sentVerb: 'paged',
    };
  }
  return {
    async claim() {
      let d = await claimResolve(incidentKey, correlationId, occurredAtMs);
      // The page is being published right now (milliseconds): wait briefly rather than fail the OK.
      for (let attempt = 1; d.action === 'retry' && attempt <= RESOLVE_WAITS; attempt++) {
        await sleep(RESOLVE_WAIT_MS * attempt);
        d = await claimResolve(incidentKey, correlationId, occurredAtMs);
      }
      if (d.action === 'resolve') {
        return {
          send: true,
          repeats: d.repeats,
          pageId: pageIdOf(incidentKey, 'resolve', d.pagedBy ?? correlationId),
          ...(d.pagedBy ? { resolvesPageId: pageIdOf(incidentKey, 'incident', d.pagedBy) } : {}),
          ...(d.severity ? { incidentSeverity: d.severity } : {}),
        };
      }
      if (d.action === 'retry') {
        // Failing makes Lambda retry this OK after the page has gone out, instead of dropping it.
        const error = Object.assign(new Error(d.why), { name: 'PageInProgress' });
        return {
          send: false,
          outcome: failed(intent.kind, error, `resolve notice for ${incidentKey} deferred`),
        };
      }
      return {
        send: false,
        outcome: skipped(intent.kind, d.reason, `no resolve notice for ${incidentKey}: ${d.why}`),
      };
    },
    markSent: () => markResolveSent(incidentKey, correlationId),
    release: () => releaseResolve(incidentKey, correlationId),
    sentVerb: 'sent resolve notice',
  };
}

interface ChannelTopic {
  channel: PageChannel;
  topicArn: string;
}

/** The topics a page goes to: the text topic, and the chat and pager topics when the stack has them. */
export function channelTopics(ctx: ExecutionContext, textTopic: string): ChannelTopic[] {
  const { pageChatTopicArn, pagePagerTopicArn } = ctx.config;
  return [
    { channel: 'text', topicArn: textTopic },
    ...(pageChatTopicArn ? [{ channel: 'chat' as const, topicArn: pageChatTopicArn }] : []),
    ...(pagePagerTopicArn ? [{ channel: 'pager' as const, topicArn: pagePagerTopicArn }] : []),
  ];
}

/**
 * The channel has the page: failing to record it must not fail the delivery (a retry would then page
 * the other channels' missing ones and this one again, under the same page id, which its dedup drops).
 */
async function recordChannel(pageId: string, channel: PageChannel, messageId: string): Promise<void> {
  try {
    await markChannelSent(pageId, channel, messageId);
  } catch (error) {
    logger.warn('page sent on a channel but not recorded as sent there', { pageId, channel, error });
  }
}

export type Delivery =
  | { ok: true; messageId: string }
  | { ok: false; error: unknown; anySent: boolean; channel: PageChannel };

/**
 * One page to every channel, each in its format. With several channels, each records that it got the
 * page: a retry of this delivery (same page id) sends only to the channels that did not, so a failure on
 * one channel never pages another twice. One channel needs no record: the claim already covers it.
 */
export async function deliver(
  topics: ChannelTopic[],
  page: RenderedPage,
  intent: PageIntent,
  pageCtx: PageContext,
): Promise<Delivery> {
  const several = topics.length > 1;
  const messageIds: string[] = [];
  let anySent = false;
  for (const { channel, topicArn } of topics) {
    try {
      if (several && (await channelSent(pageCtx.pageId, channel))) {
        anySent = true;
        continue;
      }
      const message = channel === 'text' ? page.body : renderForChannel(channel, intent, pageCtx);
      const messageId = await publish(page, topicArn, message);
      messageIds.push(several ? `${channel}:${messageId}` : messageId);
      anySent = true;
      if (several) await recordChannel(pageCtx.pageId, channel, messageId);
    } catch (error) {
      return { ok: false, error, anySent, channel };
    }
  }
  return { ok: true, messageId: messageIds.join(' ') || 'already sent' };
}

/** Pages once per incident per window, and sends one resolve notice after a page. */
export const pageExecutor: Executor<PageIntent> = {
  kind: 'sns.page',
  // The topic is encrypted with the stack's key: publishing needs the key too.
  metrics: { done: 'PagesSent', refused: { suppressed: 'PagesSuppressed' } },
  permissions: [
    'sns:Publish',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    // The per-channel records of a page sent to several topics.
    'dynamodb:PutItem',
  ],
  mutates: false,
  async execute(intent, ctx) {
    const topicArn = ctx.config.pageTopicArn;
    if (!topicArn) {
      return failed(intent.kind, new Error('PAGE_TOPIC_ARN is not set'), 'cannot page: no topic configured');
    }
    const slot = slotFor(intent, ctx);
    let claim: Claim;
    try {
      claim = await slot.claim();
    } catch (error) {
      // The state table could not decide (unreachable, or the record kept changing): Lambda retries.
      return failed(
        intent.kind,
        error,
        `could not claim the ${intent.notice} notice for ${intent.incidentKey}`,
      );
    }
    if (!claim.send) return claim.outcome;
    const pageCtx: PageContext = {
      outcomes: ctx.prior,
      repeats: claim.repeats,
      stage: ctx.config.stage,
      dryRun: ctx.config.dryRun,
      pageId: claim.pageId,
      ...(claim.resolvesPageId ? { resolvesPageId: claim.resolvesPageId } : {}),
      ...(claim.reopened ? { reopened: true } : {}),
      ...(claim.incidentSeverity ? { incidentSeverity: claim.incidentSeverity } : {}),
      ...(ctx.forcedDryRun ? { forcedDryRun: ctx.forcedDryRun } : {}),
    };
    const page = renderPage(intent, pageCtx);
    const topics = channelTopics(ctx, topicArn);
    const delivery = await deliver(topics, page, intent, pageCtx);
    if (!delivery.ok) {
      const { error } = delivery;
      const where = topics.length > 1 ? ` to the ${delivery.channel} topic` : '';
      if (delivery.anySent) {
        // Another channel has it: keep the claim, so this delivery's retry (same page id) sends only
        // to the channels still missing it.
        return failed(
          intent.kind,
          error,
          `sent "${page.subject}" only in part: not${where} (page id ${claim.pageId})`,
        );
      }
      if (mayHaveBeenPublished(error)) {
        // SNS may have sent it (a lost response, a timeout): keep the claim, so only this delivery's
        // retry pages again, under the same page id, and subscribers can drop the copy.
        return failed(
          intent.kind,
          error,
          `may not have sent "${page.subject}"${where} (page id ${claim.pageId})`,
        );
      }
      // SNS refused it and no channel has it: undo the claim, so whichever delivery comes next can page.
      await slot.release();
      return failed(intent.kind, error, `could not send "${page.subject}"${where}`);
    }
    const { messageId } = delivery;
    // The page is out: failing to record that must not undo the claim. Try hard, since an unrecorded
    // page looks unsent to a retry (which would page again) and defers the resolve notice.
    for (let attempt = 1; ; attempt++) {
      try {
        await slot.markSent();
        break;
      } catch (error) {
        if (attempt >= MARK_ATTEMPTS) {
          logger.error('page sent but not recorded as sent', {
            incidentKey: intent.incidentKey,
            error,
          });
          break;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
    return done(intent.kind, `${slot.sentVerb} "${page.subject}"`, { messageId, pageId: claim.pageId });
  },
};
