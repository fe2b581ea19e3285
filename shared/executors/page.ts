import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '#shared/aws/sns.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import { type RenderedPage, renderPage } from '#shared/domain/page.ts';
import {
  claimResolve,
  markPageSent,
  markResolveSent,
  openWindow,
  releaseResolve,
  releaseWindow,
} from '#shared/state/suppression.ts';
import type { ExecutionContext, Executor } from './types.ts';

async function publish(page: RenderedPage, topicArn: string): Promise<string> {
  const res = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: page.subject,
      Message: page.body,
      MessageAttributes: Object.fromEntries(
        Object.entries(page.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
    }),
  );
  return res.MessageId ?? 'unknown';
}

async function pageIncident(intent: PageIntent, ctx: ExecutionContext, topicArn: string) {
  const { incidentKey, correlationId } = intent.signal;
  const windowSeconds = ctx.config.paging.suppressionWindowMinutes * 60;
  const decision = await openWindow(incidentKey, correlationId, windowSeconds);
  if (decision.action === 'suppress') {
    return skipped(
      intent.kind,
      'suppressed',
      `already paged for ${incidentKey} in this window; ${decision.repeats} repeat(s) counted${decision.counted ? '' : ' (this delivery was counted before)'}`,
    );
  }
  const page = renderPage(intent, {
    outcomes: ctx.prior,
    repeats: decision.repeatsBefore,
    stage: ctx.config.stage,
    dryRun: ctx.config.dryRun,
  });
  try {
    const messageId = await publish(page, topicArn);
    await markPageSent(incidentKey, correlationId);
    return done(intent.kind, `paged "${page.subject}"`, { messageId });
  } catch (error) {
    await releaseWindow(incidentKey, correlationId);
    return failed(intent.kind, error, `could not page "${page.subject}"`);
  }
}

async function pageResolve(intent: PageIntent, ctx: ExecutionContext, topicArn: string) {
  const { incidentKey, correlationId } = intent.signal;
  const decision = await claimResolve(incidentKey, correlationId);
  if (decision.action === 'skip') {
    return skipped(intent.kind, 'no-open-incident', `no resolve notice for ${incidentKey}: ${decision.why}`);
  }
  const page = renderPage(intent, {
    outcomes: ctx.prior,
    repeats: decision.repeats,
    stage: ctx.config.stage,
    dryRun: ctx.config.dryRun,
  });
  try {
    const messageId = await publish(page, topicArn);
    await markResolveSent(incidentKey, correlationId);
    return done(intent.kind, `sent resolve notice "${page.subject}"`, { messageId });
  } catch (error) {
    await releaseResolve(incidentKey, correlationId);
    return failed(intent.kind, error, `could not send resolve notice "${page.subject}"`);
  }
}

/** Pages once per incident per window, and sends one resolve notice after a page. */
export const pageExecutor: Executor<PageIntent> = {
  kind: 'sns.page',
  permissions: ['sns:Publish', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  mutates: false,
  async execute(intent, ctx) {
    const topicArn = ctx.config.pageTopicArn;
    if (!topicArn) {
      return failed(intent.kind, new Error('PAGE_TOPIC_ARN is not set'), 'cannot page: no topic configured');
    }
    return intent.notice === 'incident'
      ? pageIncident(intent, ctx, topicArn)
      : pageResolve(intent, ctx, topicArn);
  },
};
