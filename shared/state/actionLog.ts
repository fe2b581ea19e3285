import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import type { PlanNote } from '#shared/domain/intent.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { type ActingTarget, currentTarget } from '#shared/organization/target.ts';
import { DAY, nowSeconds, stateKey, stateTable } from './table.ts';

/** One record per decision: what was decided, done or skipped, and why. */
export interface ActionLogEntry {
  id: string;
  type: 'action';
  correlationId: string;
  functionName: string;
  signalKind: string;
  incidentKey: string;
  decision: 'done' | 'skipped' | 'failed';
  intentKind: string;
  reason?: string;
  /** The one resource this entry is about, when an action covered many. */
  resource?: string;
  detail: string;
  dryRun: boolean;
  /** Why the kill switch made the run dry, when it did. */
  forcedDryRun?: string;
  /** The member account acted in, on an organization's stage (absent: the stack's own account). */
  account?: string;
  /**
   * The assumed-role session the member's CloudTrail names this run's calls with: shared by a
   * function's events within the credentials' hour, so this entry (its correlationId) says which event
   * an action in that account was for.
   */
  memberSession?: string;
  /** ISO 8601 UTC time of the decision: the sort key of both action-log indexes (tableDefinition.ts). */
  at: string;
  /** The UTC date of `at` (YYYY-MM-DD): the partition of the `byDay` index, so recent decisions need no scan. */
  day: string;
  expiration: number;
}

const memberOf = (target: ActingTarget | undefined) =>
  target ? { account: target.account, ...(target.session ? { memberSession: target.session } : {}) } : {};

export function actionLogEntries(
  signal: Signal,
  functionName: string,
  dryRun: boolean,
  notes: PlanNote[],
  outcomes: Outcome[],
  retentionDays: number,
  forcedDryRun?: string,
): ActionLogEntry[] {
  const at = new Date().toISOString();
  const expiration = nowSeconds() + retentionDays * DAY;
  const base = {
    type: 'action' as const,
    correlationId: signal.correlationId,
    functionName,
    signalKind: signal.kind,
    incidentKey: signal.incidentKey,
    dryRun,
    ...(forcedDryRun ? { forcedDryRun } : {}),
    ...memberOf(currentTarget()),
    at,
    day: at.slice(0, 10),
    expiration,
  };
  const fromOutcomes = outcomes.map((o) => ({
    ...base,
    decision: o.status,
    intentKind: o.kind,
    detail: o.detail,
    ...(o.reason ? { reason: o.reason } : {}),
  }));
  // An action on many resources (a run's stops) keeps each one's evidence as its own entry.
  const perResource = outcomes.flatMap((o) =>
    Object.entries(o.evidence ?? {}).map(([resource, evidence]) => ({
      ...base,
      decision: o.status,
      intentKind: o.kind,
      resource,
      detail: evidence,
    })),
  );
  const fromNotes = notes.map((n) => ({
    ...base,
    decision: n.decision,
    intentKind: 'none',
    reason: n.reason,
    detail: n.detail,
  }));
  // Keyed by correlation id and position, so a retried invocation overwrites instead of duplicating.
  return [...fromOutcomes, ...perResource, ...fromNotes].map((e, i) => ({
    ...e,
    id: stateKey('action', signal.correlationId, i),
  }));
}

export async function writeActionLog(entries: ActionLogEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 25) {
    let pending = entries.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
      const res = await documents.send(new BatchWriteCommand({ RequestItems: { [stateTable()]: pending } }));
      pending = (res.UnprocessedItems?.[stateTable()] ?? []) as typeof pending;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    if (pending.length > 0)
      throw new Error(`action log: ${pending.length} entries were not written after retries`);
  }
}
