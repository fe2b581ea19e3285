import type { Signal } from '#shared/domain/signal.ts';
import {
  readAutomationExecution,
  type StoredAutomationExecution,
} from '#shared/state/automationExecutions.ts';
import type { RunbookResultConfig } from './settings.ts';
import type { RunbookResultFacts } from './signal.ts';

/** The read gather makes for a success: the execution's record (a shared key, see deployment.ts). */
export const gatherPermissions = ['dynamodb:GetItem'] as const;

export interface RunbookResultGathered {
  /** The record onAlarm wrote when it started the execution; absent when this system did not start it. */
  execution?: StoredAutomationExecution;
  /**
   * Not read: an escalation claims its notice on the record, and that conditional write returns the
   * record (and finds out that there is none), so a read before it would only be checked again.
   */
  readByClaim?: true;
}

/**
 * Read-only: whether this system started the execution, and for which incident. Only a success reads
 * it here: whether its notice goes out at all depends on the record (its page), so it is decided
 * before anything is claimed.
 */
export async function gatherRunbookResult(input: {
  signal: Signal;
  facts: RunbookResultFacts;
  config: RunbookResultConfig;
}): Promise<RunbookResultGathered> {
  if (input.facts.status !== 'Success') return { readByClaim: true };
  const execution = await readAutomationExecution(input.facts.executionId);
  return execution ? { execution } : {};
}
