import type { PageIntent } from '#shared/domain/intent.ts';
import { pageIdOf } from '#shared/domain/page.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { NotifyingExecutor } from '#shared/executors/types.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { linkAutomationPage } from '#shared/state/automationExecutions.ts';
import { incidentOpenedBy } from '#shared/state/suppression.ts';

/**
 * The shared page executor, then the link from the runbook this decision started to the incident's page:
 * onRunbookResult names that page when the runbook fails, and tells it when the runbook succeeds. A
 * suppressed page (another delivery of the incident paged) links the page that was sent.
 */
export const linkedPageExecutor: NotifyingExecutor<PageIntent> = {
  kind: 'sns.page',
  metrics: pageExecutor.metrics ?? {},
  // Reading the incident's record to find its page, and writing the link on the execution record.
  permissions: [...pageExecutor.permissions, 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  mutates: false,
  async execute(intent, ctx) {
    const outcome = await pageExecutor.execute(intent, ctx);
    const executions = ctx.prior.flatMap((o) =>
      o.kind === 'ssm.start-automation' && o.status === 'done' && o.refs?.executionId
        ? [o.refs.executionId]
        : [],
    );
    if (executions.length === 0 || intent.notice !== 'incident') return outcome;
    try {
      let pageId = outcome.status === 'done' ? outcome.refs?.pageId : undefined;
      if (pageId === undefined && outcome.reason === 'suppressed') {
        const openedBy = await incidentOpenedBy(intent.incidentKey);
        if (openedBy) pageId = pageIdOf(intent.incidentKey, 'incident', openedBy);
      }
      if (pageId === undefined) return outcome;
      for (const id of executions) await linkAutomationPage(id, pageId, intent.severity);
    } catch (error) {
      // The page is out: without the link, a failed runbook still escalates, naming no earlier page.
      logger.warn('runbook execution not linked to its page', { incidentKey: intent.incidentKey, error });
    }
    return outcome;
  },
};
