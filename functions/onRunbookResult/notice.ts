import { done, failed, skipped } from '#shared/domain/outcome.ts';
import { type RenderedPage, renderPage } from '#shared/domain/page.ts';
import { channelTopics, deliver, mayHaveBeenPublished } from '#shared/executors/page.ts';
import type { NotifyingExecutor } from '#shared/executors/types.ts';
import { logger } from '#shared/runtime/powertools.ts';
import {
  claimAutomationResult,
  markAutomationResultSent,
  releaseAutomationResult,
} from '#shared/state/automationExecutions.ts';
import type { RunbookResultPageIntent } from './plan.ts';

/**
 * The result's page with what subscribers need to group it: `notice` says `escalation` or `update`
 * (never a new incident for a success), and `earlierPageId` names the incident's page, so a pager or
 * chat rule can attach it to the incident that page opened.
 */
export function renderResultPage(
  intent: RunbookResultPageIntent,
  stage: string,
  dryRun: boolean,
): RenderedPage {
  const page = renderPage(intent, { outcomes: [], repeats: 0, stage, dryRun, pageId: intent.result.pageId });
  return {
    ...page,
    attributes: {
      ...page.attributes,
      notice: intent.result.notice,
      executionId: intent.result.executionId,
      ...(intent.result.earlierPageId ? { earlierPageId: intent.result.earlierPageId } : {}),
    },
  };
}

/**
 * Pages a runbook's result once per execution and status, however often and however concurrently the
 * event is delivered: the claim is a conditional write on the execution's record. A delivery's own
 * retry pages again (same page id) until its notice is recorded as sent.
 */
export const resultPageExecutor: NotifyingExecutor<RunbookResultPageIntent> = {
  kind: 'sns.page',
  metrics: { done: 'PagesSent', refused: { suppressed: 'PagesSuppressed' } },
  // The claim and its bookkeeping are on the shared execution record (deployment.ts grants the prefix).
  // The per-channel records of a notice sent to several topics (chat, pager), as every page has.
  permissions: [
    'sns:Publish',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'dynamodb:UpdateItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
  ],
  mutates: false,
  async execute(intent, ctx) {
    const { executionId, status } = intent.result;
    const topicArn = ctx.config.pageTopicArn;
    if (!topicArn) {
      return failed(intent.kind, new Error('PAGE_TOPIC_ARN is not set'), 'cannot page: no topic configured');
    }
    let claimed: boolean;
    try {
      claimed = await claimAutomationResult(executionId, status, intent.correlationId);
    } catch (error) {
      return failed(intent.kind, error, `could not claim the ${status} notice of execution ${executionId}`);
    }
    if (!claimed) {
      return skipped(
        intent.kind,
        'suppressed',
        `the ${status} result of execution ${executionId} was already notified by another delivery`,
      );
    }
    const page = renderResultPage(intent, ctx.config.stage, ctx.config.dryRun);
    // Every channel the stack has, in its format (docs/PAGING.md), each once; the pager for escalations.
    const pageCtx = {
      outcomes: [],
      repeats: 0,
      stage: ctx.config.stage,
      dryRun: ctx.config.dryRun,
      pageId: intent.result.pageId,
    };
    // A success is an update on a paged incident, not a new one: it would open a pager alert of its own.
    const topics = channelTopics(ctx, topicArn).filter(
      (t) => intent.result.notice === 'escalation' || t.channel !== 'pager',
    );
    const delivery = await deliver(topics, page, intent, pageCtx);
    if (!delivery.ok) {
      const { error } = delivery;
      const where = topics.length > 1 ? ` to the ${delivery.channel} topic` : '';
      if (delivery.anySent || mayHaveBeenPublished(error)) {
        // A channel has it or may have it: keep the claim, so only this delivery's retry sends it
        // again (same page id), and only to the channels without it.
        return failed(
          intent.kind,
          error,
          `may not have sent "${page.subject}"${where} (page id ${intent.result.pageId})`,
        );
      }
      await releaseAutomationResult(executionId, status, intent.correlationId);
      return failed(intent.kind, error, `could not send "${page.subject}"${where}`);
    }
    const { messageId } = delivery;
    try {
      await markAutomationResultSent(executionId, status, intent.correlationId);
    } catch (error) {
      // The notice is out; unrecorded, only this delivery's own retry could send it again.
      logger.warn('runbook result notice sent but not recorded as sent', { executionId, status, error });
    }
    const verb = intent.result.notice === 'escalation' ? 'escalated' : 'notified';
    return done(intent.kind, `${verb} "${page.subject}"`, { messageId, pageId: intent.result.pageId });
  },
};
