import type { Signal } from '#shared/domain/signal.ts';
import type { Observation } from '#shared/runtime/functionSpec.ts';
import type { ResultStatus, RunbookResultEvent } from './schema.ts';

/** What the plan needs to know about the execution's result, taken from the event alone. */
export interface RunbookResultFacts {
  executionId: string;
  document: string;
  status: ResultStatus;
  startTime: string;
  endTime?: string;
  durationMs?: number;
  executedBy?: string;
  account: string;
  region: string;
}

/** The console's host for a region's partition (China and GovCloud have their own). */
function consoleHost(region: string): string {
  if (region.startsWith('cn-')) return `${region}.console.amazonaws.cn`;
  if (region.startsWith('us-gov-')) return `${region}.console.amazonaws-us-gov.com`;
  return `${region}.console.aws.amazon.com`;
}

/** Systems Manager -> Automation -> the execution, in its own region's console. */
export function executionConsoleLink(region: string, executionId: string): string {
  return `https://${consoleHost(region)}/systems-manager/automation/execution/${executionId}?region=${region}`;
}

export function runbookResultFacts(event: RunbookResultEvent): RunbookResultFacts {
  const d = event.detail;
  return {
    executionId: d.ExecutionId,
    document: d.Definition,
    status: d.Status,
    startTime: d.StartTime,
    ...(d.EndTime ? { endTime: d.EndTime } : {}),
    ...(d.Time !== undefined ? { durationMs: d.Time } : {}),
    ...(d.ExecutedBy ? { executedBy: d.ExecutedBy } : {}),
    account: event.account,
    region: event.region,
  };
}

/**
 * Pure: what an execution's status change says. One of another account or region never gets here: the
 * spec's scope refuses it before any AWS call.
 */
export function observeRunbookResult(event: RunbookResultEvent): Observation<RunbookResultFacts> {
  const facts = runbookResultFacts(event);
  const signal: Signal = {
    kind: 'ssm.automation-result',
    severity: facts.status === 'Success' ? 'info' : 'high',
    title: `runbook ${facts.document} ${facts.status} (execution ${facts.executionId})`,
    summary:
      `SSM Automation execution ${facts.executionId} of ${facts.document} ended ${facts.status}` +
      `${facts.endTime ? ` at ${facts.endTime}` : ''} (started ${facts.startTime}).`,
    account: event.account,
    region: event.region,
    resources: [
      {
        type: 'automation execution',
        id: facts.executionId,
        // The schema holds that resources name it, in its own partition.
        arn:
          event.resources.find((r) => r.endsWith(`:automation-execution/${facts.executionId}`)) ??
          facts.executionId,
      },
    ],
    correlationId: event.id,
    // Until the execution's record says which incident it belongs to (the plan takes it from there).
    incidentKey: `automation:${event.account}:${facts.executionId}`,
    occurredAt: facts.endTime ?? event.time,
    evidence: {
      executionId: facts.executionId,
      document: facts.document,
      status: facts.status,
      startTime: facts.startTime,
      ...(facts.endTime ? { endTime: facts.endTime } : {}),
      ...(facts.durationMs !== undefined ? { durationMs: facts.durationMs } : {}),
      ...(facts.executedBy ? { executedBy: facts.executedBy } : {}),
    },
    links: [{ label: 'Execution', url: executionConsoleLink(event.region, facts.executionId) }],
  };
  return { facts, signal };
}
