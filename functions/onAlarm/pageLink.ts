import type { PageIntent } from '#shared/domain/intent.ts';
import { failed, type Outcome } from '#shared/domain/outcome.ts';
import { pageIdOf } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { pageExecutor, pageExecutorWith } from '#shared/executors/page.ts';
import { executionRecordOf } from '#shared/executors/runbook.ts';
import type { NotifyingExecutor } from '#shared/executors/types.ts';
import { incidentWindowClaim } from '#shared/paging/incidentWindow.ts';
import { deduplicationIsOn } from '#shared/runtime/deduplication.ts';
import { logger } from '#shared/runtime/powertools.ts';
import {
  type AutomationExecutionRecord,
  automationRecordPut,
  linkAutomationPage,
  recordAutomationExecution,
} from '#shared/state/automationExecutions.ts';
import { recordRunbookExecution, runbookExecutionNote } from '#shared/state/runbookStarts.ts';
import { incidentOpenedBy, markPageSentWith } from '#shared/state/suppression.ts';

/** A runbook this decision started whose record waits for the page (`recordedWithPage`). */
interface PendingExecution {
  executionId: string;
  document: string;
  rule: string;
  clientToken: string;
}

/** The executions the decision started: recorded already (an id), or waiting for the page. */
function startedExecutions(prior: Outcome[]): { recorded: string[]; pending: PendingExecution[] } {
  const recorded: string[] = [];
  const pending: PendingExecution[] = [];
  for (const o of prior) {
    const refs = o.kind === 'ssm.start-automation' && o.status === 'done' ? o.refs : undefined;
    if (!refs?.executionId) continue;
    const { executionId, document, rule, clientToken } = refs;
    if (document && rule && clientToken) pending.push({ executionId, document, rule, clientToken });
    else recorded.push(executionId);
  }
  return { recorded, pending };
}

/** A pending execution's record, linked to the incident's page (its id and severity) when there is one. */
function recordOf(
  e: PendingExecution,
  signal: Signal,
  intent: PageIntent,
  pageId: string | undefined,
): AutomationExecutionRecord {
  const record = executionRecordOf(e, signal, e.executionId);
  return pageId === undefined ? record : { ...record, pageId, severity: intent.severity };
}

/**
 * The incident page executor whose sent mark of an incident page first tries `withSent` (the mark and
 * other writes, one round trip): false when that did not happen, and the mark is written alone.
 */
function pageExecutorMarkingWith(
  withSent: (pageId: string) => Promise<boolean>,
): NotifyingExecutor<PageIntent> {
  return pageExecutorWith<PageIntent>({
    ...incidentWindowClaim,
    async markSent(intent, claimed) {
      if (intent.notice === 'incident' && deduplicationIsOn() && (await withSent(claimed.pageId))) return;
      await incidentWindowClaim.markSent(intent, claimed);
    },
  });
}

/** The incident's page this decision's runbook belongs to: the one sent here, or the one another sent. */
async function pageOf(intent: PageIntent, outcome: Outcome): Promise<string | undefined> {
  if (intent.notice !== 'incident') return undefined;
  if (outcome.status === 'done') return outcome.refs?.pageId;
  if (outcome.reason !== 'suppressed') return undefined;
  const openedBy = await incidentOpenedBy(intent.incidentKey);
  return openedBy ? pageIdOf(intent.incidentKey, 'incident', openedBy) : undefined;
}

/**
 * The shared page executor, and the link from the runbook this decision started to the incident's page:
 * onRunbookResult names that page when the runbook fails, and tells it when the runbook succeeds. The
 * execution's record is written once, with its link, in the transaction that marks the page sent (the
 * start leaves it to the page). A page not sent here (suppressed: another delivery of the incident paged
 * it; refused; failed) has the record written alone, linking the page that was sent, if any.
 */
export const linkedPageExecutor: NotifyingExecutor<PageIntent> = {
  kind: 'sns.page',
  metrics: pageExecutor.metrics ?? {},
  // The incident's record (its page, its sent mark), the execution's record (written once, or linked).
  permissions: [...pageExecutor.permissions, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
  mutates: false,
  async execute(intent, ctx) {
    const { recorded, pending } = startedExecutions(ctx.prior);
    if (recorded.length === 0 && pending.length === 0) return pageExecutor.execute(intent, ctx);
    let recordedWithPage = pending.length === 0;
    const executor = pageExecutorMarkingWith(async (pageId) => {
      if (pending.length === 0) return false;
      try {
        await markPageSentWith(
          intent.incidentKey,
          intent.correlationId,
          pending.flatMap((e) => [
            { Put: automationRecordPut(recordOf(e, ctx.signal, intent, pageId)) },
            // The note a refused start names the execution by.
            { Update: runbookExecutionNote(ctx.signal.incidentKey, e.rule, e.clientToken, e.executionId) },
          ]),
        );
      } catch (error) {
        // A retry finds its record written, or the start's note gone with a new window, or the table
        // refused: the transaction holds all or none, so each is written alone below.
        logger.info('page sent mark and runbook record not written together: writing each alone', {
          incidentKey: intent.incidentKey,
          error,
        });
        return false;
      }
      recordedWithPage = true;
      return true;
    });
    const outcome = await executor.execute(intent, ctx);
    if (recordedWithPage && recorded.length === 0) return outcome;
    let pageId: string | undefined;
    try {
      pageId = await pageOf(intent, outcome);
    } catch (error) {
      logger.warn('incident page not read: runbook execution recorded without its link', { error });
    }
    if (!recordedWithPage) {
      for (const e of pending) {
        try {
          const written = await recordAutomationExecution(recordOf(e, ctx.signal, intent, pageId));
          if (!written && pageId !== undefined)
            await linkAutomationPage(e.executionId, pageId, intent.severity);
        } catch (error) {
          // Unrecorded, a failure of this execution would be ignored: the retry (same ClientToken, same
          // execution) records it.
          return failed(
            intent.kind,
            error,
            `${outcome.detail}; started ${e.document} (execution ${e.executionId}) but could not record it for its result; the delivery is retried`,
          );
        }
        await recordRunbookExecution(ctx.signal.incidentKey, e.rule, e.clientToken, e.executionId).catch(
          (error: unknown) =>
            logger.warn('runbook execution id not recorded', { executionId: e.executionId, error }),
        );
      }
    }
    if (pageId !== undefined) {
      for (const id of recorded) {
        // The page is out: without the link, a failed runbook still escalates, naming no earlier page.
        await linkAutomationPage(id, pageId, intent.severity).catch((error: unknown) =>
          logger.warn('runbook execution not linked to its page', { incidentKey: intent.incidentKey, error }),
        );
      }
    }
    return outcome;
  },
};
