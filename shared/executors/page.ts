import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '#shared/aws/sns.ts';
import type { SharedConfig } from '#shared/config.ts';
import { type PageChannel, renderForChannel } from '#shared/domain/channels.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, failed } from '#shared/domain/outcome.ts';
import { type PageContext, type RenderedPage, renderPage } from '#shared/domain/page.ts';
import type { Claimed, PageClaim } from '#shared/paging/claim.ts';
import { incidentWindowClaim } from '#shared/paging/incidentWindow.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { channelSent, markChannelSent } from '#shared/state/pageChannels.ts';
import type { ExecutionContext, NotifyingExecutor } from './types.ts';

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

/**
 * Whether a failed Publish may still have reached SNS: no answer at all (connection lost, timeout,
 * aborted) or a server error. A 4xx answer (throttled, not found, not authorized) means it was not sent.
 */
export function mayHaveBeenPublished(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === undefined || status >= 500;
}

/**
 * The one page executor, on the claim a function pages by: claims the notice, renders it, sends it to
 * every channel it goes to, records it sent. A notice no channel got is released for the next delivery;
 * one that a channel has, or may have, keeps its claim, so only this delivery's retry sends it again,
 * under the same page id, and only to the channels without it.
 */
export function pageExecutorWith<I extends PageIntent, C extends SharedConfig = SharedConfig>(
  pageClaim: PageClaim<I, C>,
): NotifyingExecutor<I, C> {
  return {
    kind: 'sns.page',
    metrics: { done: 'PagesSent', refused: { suppressed: 'PagesSuppressed' } },
    // The topic is encrypted with the stack's key: publishing needs the key too. The claims are
    // conditional updates that return the old item; a page to several topics has per-channel records.
    permissions: [
      'sns:Publish',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
    ],
    mutates: false,
    async execute(planned, ctx) {
      const topicArn = ctx.config.pageTopicArn;
      if (!topicArn) {
        return failed(
          planned.kind,
          new Error('PAGE_TOPIC_ARN is not set'),
          'cannot page: no topic configured',
        );
      }
      let claim: Claimed<I>;
      try {
        claim = await pageClaim.claim(planned, ctx);
      } catch (error) {
        // The state table could not decide (unreachable, or the record kept changing): Lambda retries.
        return failed(planned.kind, error, `could not claim ${pageClaim.describe(planned)}`);
      }
      if (!claim.send) return claim.outcome;
      const intent = claim.intent ?? planned;
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
      const rendered = renderPage(intent, pageCtx);
      const page = claim.attributes
        ? { ...rendered, attributes: { ...rendered.attributes, ...claim.attributes } }
        : rendered;
      const only = claim.channels;
      const topics = channelTopics(ctx, topicArn).filter((t) => !only || only(t.channel));
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
        await pageClaim.release(planned, claim);
        return failed(intent.kind, error, `could not send "${page.subject}"${where}`);
      }
      await pageClaim.markSent(planned, claim);
      return done(intent.kind, `${claim.verb} "${page.subject}"`, {
        messageId: delivery.messageId,
        pageId: claim.pageId,
      });
    },
  };
}

/** Pages once per incident per window, and sends one resolve notice after a page. */
export const pageExecutor: NotifyingExecutor<PageIntent> = pageExecutorWith(incidentWindowClaim);
