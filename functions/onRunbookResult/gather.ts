import type { RuntimeConfig } from '#shared/config.ts';
import type { Signal } from '#shared/domain/signal.ts';
import {
  readAutomationExecution,
  type StoredAutomationExecution,
} from '#shared/state/automationExecutions.ts';
import type { RunbookResultFacts } from './signal.ts';

/** The read gather makes: the execution's record (a shared key, see deployment.ts). */
export const gatherPermissions = ['dynamodb:GetItem'] as const;

export interface RunbookResultGathered {
  /** The record onAlarm wrote when it started the execution; absent when this system did not start it. */
  execution?: StoredAutomationExecution;
}

/** Read-only: whether this system started the execution, and for which incident. */
export async function gatherRunbookResult(input: {
  signal: Signal;
  facts: RunbookResultFacts;
  config: RuntimeConfig;
}): Promise<RunbookResultGathered> {
  const execution = await readAutomationExecution(input.facts.executionId);
  return execution ? { execution } : {};
}
