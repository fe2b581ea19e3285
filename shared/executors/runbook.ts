import { StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { ssm } from '#shared/aws/ssm.ts';
import type { RunbookIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import type { Executor } from './types.ts';

/**
 * Starts an SSM Automation runbook. The ClientToken is derived from the incident, so a retried
 * delivery gets the original execution back from SSM instead of starting a second one.
 */
export const runbookExecutor: Executor<RunbookIntent> = {
  kind: 'ssm.start-automation',
  permissions: ['ssm:StartAutomationExecution', 'ssm:AddTagsToResource', 'iam:PassRole'],
  mutates: true,
  async execute(intent, ctx) {
    const params = Object.entries(intent.parameters)
      .map(([k, v]) => `${k}=${v.join(',')}`)
      .join(' ');
    if (intent.dryRun) {
      return skipped(
        intent.kind,
        'dry-run',
        `would start ${intent.document} ${params} (rule ${intent.rule})`,
      );
    }
    try {
      const res = await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: intent.document,
          Parameters: intent.parameters,
          ClientToken: intent.clientToken,
          // Tags let onRunbookResult recognise executions this system started.
          Tags: [
            { Key: 'ops:started-by', Value: 'ops-autopilot' },
            { Key: 'ops:correlation-id', Value: ctx.signal.correlationId },
          ],
        }),
      );
      const id = res.AutomationExecutionId ?? 'unknown';
      return done(intent.kind, `started ${intent.document} ${params} (execution ${id})`, { executionId: id });
    } catch (error) {
      return failed(intent.kind, error, `could not start ${intent.document} ${params}`);
    }
  },
};
