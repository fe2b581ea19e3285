import { StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { ssm } from '#shared/aws/ssm.ts';
import type { RunbookIntent } from '#shared/domain/intent.ts';
import { done, failed } from '#shared/domain/outcome.ts';
import type { MutatingExecutor } from './types.ts';

const describe = (intent: RunbookIntent): string => {
  const params = Object.entries(intent.parameters)
    .map(([k, v]) => `${k}=${v.join(',')}`)
    .join(' ');
  return `${intent.document} ${params}`;
};

/**
 * Starts an SSM Automation runbook. The ClientToken is derived from the incident, so a retried
 * delivery gets the original execution back from SSM instead of starting a second one.
 */
export const runbookExecutor: MutatingExecutor<RunbookIntent> = {
  kind: 'ssm.start-automation',
  permissions: ['ssm:StartAutomationExecution', 'ssm:AddTagsToResource', 'iam:PassRole'],
  mutates: true,
  // SSM throttles starts at about one per second; the client retries up to 6 times with backoff.
  budgetMs: 10_000,
  preview: (intent) => `start ${describe(intent)} (rule ${intent.rule})`,
  async execute(intent, ctx) {
    const target = describe(intent);
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
      return done(intent.kind, `started ${target} (execution ${id})`, { executionId: id });
    } catch (error) {
      return failed(intent.kind, error, `could not start ${target}`);
    }
  },
};
