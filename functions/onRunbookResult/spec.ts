import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { logger, metrics } from '#shared/runtime/powertools.ts';
import { gatherPermissions, gatherRunbookResult, type RunbookResultGathered } from './gather.ts';
import { resultPageExecutor } from './pageClaim.ts';
import { planRunbookResult, type RunbookResultFindings, type RunbookResultIntent } from './plan.ts';
import { RunbookResultEvent } from './schema.ts';
import { type RunbookResultConfig, specSettings } from './settings.ts';
import { observeRunbookResult, type RunbookResultFacts } from './signal.ts';

export const executors: ExecutorMap<RunbookResultIntent, RunbookResultConfig> = {
  'sns.page': resultPageExecutor,
};

/**
 * SSM Automation execution status change -> for a runbook this system started: an escalation when it
 * failed, timed out or was cancelled; a notice on the paged incident when it succeeded.
 */
export const onRunbookResult: FunctionSpec<
  typeof RunbookResultEvent,
  RunbookResultFacts,
  RunbookResultGathered,
  RunbookResultIntent,
  RunbookResultFindings,
  typeof specSettings
> = {
  name: 'onRunbookResult',
  settings: specSettings,
  schema: RunbookResultEvent,
  idempotency: { key: 'id' },
  // This stack starts runbooks in its own account and region only.
  scope: envelopeScope,
  observe: observeRunbookResult,
  gather: { permissions: gatherPermissions, read: gatherRunbookResult },
  plan: planRunbookResult,
  executors,
  // An escalation is planned before its record is read: its claim may find none (not ours).
  settle(findings, outcomes) {
    const notOurs = outcomes.some(
      (o) => o.kind === 'sns.page' && o.status === 'skipped' && o.reason === 'nothing-to-do',
    );
    return notOurs
      ? { executionId: findings.executionId, status: findings.status, decision: 'ignored' }
      : findings;
  },
  measure(result) {
    // Someone else's execution (or a crafted event): not an error, not a page; counted and said.
    if (result.findings?.decision === 'ignored') {
      metrics.addMetric('RunbookResultIgnored', MetricUnit.Count, 1);
      logger.info('runbook result ignored: not an execution this system started', {
        executionId: result.findings.executionId,
        status: result.findings.status,
      });
    }
  },
};
