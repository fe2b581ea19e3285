import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '#shared/aws/sns.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import { type RenderedPage, renderPage } from '#shared/domain/page.ts';
import { mayHaveBeenPublished } from '#shared/executors/page.ts';
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
  permissions: ['sns:Publish', 'kms:Decrypt', 'kms:GenerateDataKey', 'dynamodb:UpdateItem'],
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
    let messageId: string;
    try {
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
      messageId = res.MessageId ?? 'unknown';
    } catch (error) {
      if (mayHaveBeenPublished(error)) {
        // SNS may have sent it: keep the claim, so only this delivery's retry sends it again, same page id.
        return failed(
          intent.kind,
          error,
          `may not have sent "${page.subject}" (page id ${intent.result.pageId})`,
        );
      }
      await releaseAutomationResult(executionId, status, intent.correlationId);
      return failed(intent.kind, error, `could not send "${page.subject}"`);
    }
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
