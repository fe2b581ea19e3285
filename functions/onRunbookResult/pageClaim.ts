import { skipped } from '#shared/domain/outcome.ts';
import { type RenderedPage, renderPage } from '#shared/domain/page.ts';
import { pageExecutorWith } from '#shared/executors/page.ts';
import type { PageClaim } from '#shared/paging/claim.ts';
import { logger } from '#shared/runtime/powertools.ts';
import {
  claimAutomationResult,
  markAutomationResultSent,
  releaseAutomationResult,
} from '#shared/state/automationExecutions.ts';
import { notOurs, type RunbookResultPageIntent, wordedFromRecord } from './plan.ts';
import type { RunbookResultConfig } from './settings.ts';

/**
 * What subscribers need to group a result's page: `notice` says `escalation` or `update` (never a new
 * incident for a success), and `earlierPageId` names the incident's page, so a pager or chat rule can
 * attach it to the incident that page opened.
 */
function resultAttributes(intent: RunbookResultPageIntent): Record<string, string> {
  return {
    notice: intent.result.notice,
    executionId: intent.result.executionId,
    ...(intent.result.earlierPageId ? { earlierPageId: intent.result.earlierPageId } : {}),
  };
}

/** The result's page as the page executor sends it to the text topic. */
export function renderResultPage(
  intent: RunbookResultPageIntent,
  stage: string,
  dryRun: boolean,
): RenderedPage {
  const page = renderPage(intent, { outcomes: [], repeats: 0, stage, dryRun, pageId: intent.result.pageId });
  return { ...page, attributes: { ...page.attributes, ...resultAttributes(intent) } };
}

/**
 * The execution result: once per execution and status, however often and however concurrently the event
 * is delivered, claimed by a conditional write on the execution's record, which returns the record (an
 * escalation is worded from it then) or finds none (not ours). A delivery's own retry pages again (same
 * page id) until its notice is recorded as sent.
 */
export const executionResultClaim: PageClaim<RunbookResultPageIntent, RunbookResultConfig> = {
  describe: ({ result }) => `the ${result.status} notice of execution ${result.executionId}`,
  async claim(planned, ctx) {
    const { executionId, status } = planned.result;
    const where = planned.awaitsRecord ?? ctx.signal;
    const answer = await claimAutomationResult(executionId, status, planned.correlationId, where);
    const ignored = planned.awaitsRecord ? notOurs(planned.awaitsRecord, answer.record) : undefined;
    if (ignored !== undefined) {
      // No record of this account and region: not an execution this system started. Nothing written.
      return { send: false, outcome: skipped(planned.kind, 'nothing-to-do', ignored) };
    }
    if (!answer.claimed) {
      return {
        send: false,
        outcome: skipped(
          planned.kind,
          'suppressed',
          `the ${status} result of execution ${executionId} was already notified by another delivery`,
        ),
      };
    }
    const intent = answer.record ? wordedFromRecord(planned, ctx.signal, answer.record, ctx.config) : planned;
    const { notice, pageId } = intent.result;
    return {
      send: true,
      intent,
      pageId,
      repeats: 0,
      verb: notice === 'escalation' ? 'escalated' : 'notified',
      attributes: resultAttributes(intent),
      // Every channel for an escalation; a success is an update on a paged incident, not a new one: it
      // would open a pager alert of its own.
      channels: (channel) => notice === 'escalation' || channel !== 'pager',
    };
  },
  async markSent(intent) {
    const { executionId, status } = intent.result;
    try {
      await markAutomationResultSent(executionId, status, intent.correlationId);
    } catch (error) {
      // The notice is out; unrecorded, only this delivery's own retry could send it again.
      logger.warn('runbook result notice sent but not recorded as sent', { executionId, status, error });
    }
  },
  release: (intent) =>
    releaseAutomationResult(intent.result.executionId, intent.result.status, intent.correlationId),
};

/** The one page executor, claiming each result of an execution once. */
export const resultPageExecutor = pageExecutorWith(executionResultClaim);
