import Table from 'cli-table3';
import type { ActionLogEntry } from '#shared/state/actionLog.ts';
import type { ApprovalRow } from '#shared/state/approvalQuery.ts';

const cut = (text: string, width: number) => (text.length <= width ? text : `${text.slice(0, width - 3)}...`);

/** The decisions as a table a person reads: when, which function, about what, what it decided and why. */
export function decisionsTable(entries: readonly ActionLogEntry[]): string {
  const table = new Table({
    head: ['at (UTC)', 'function', 'incident', 'decision', 'intent', 'reason', 'detail', 'correlation id'],
    wordWrap: true,
    colWidths: [21, 18, 34, 18, 22, 16, 50, 38],
    style: { head: [], border: [] },
  });
  for (const e of entries) {
    table.push([
      e.at.replace('T', ' ').slice(0, 19),
      e.functionName.replace(/^ops-autopilot-[^-]+-/, ''),
      cut(e.incidentKey, 90),
      `${e.decision}${e.dryRun ? ' (dry-run)' : ''}`,
      e.intentKind,
      e.reason ?? '',
      cut(e.detail, 300),
      e.correlationId,
    ]);
  }
  return entries.length === 0 ? 'No decisions found.' : table.toString();
}

/** Pending and expired approvals as a table: what waits for a person, until when, and what it would do. */
export function approvalsTable(rows: readonly ApprovalRow[]): string {
  const table = new Table({
    head: ['created (UTC)', 'state', 'approval id', 'expires (UTC)', 'function', 'incident', 'would'],
    wordWrap: true,
    colWidths: [21, 9, 37, 21, 18, 34, 50],
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    table.push([
      r.createdAt.replace('T', ' ').slice(0, 19),
      r.state,
      r.approvalId,
      r.expiresAt.replace('T', ' ').slice(0, 19),
      r.owner,
      cut(r.incidentKey, 90),
      cut(r.preview, 300),
    ]);
  }
  return rows.length === 0 ? 'No pending or expired approvals found.' : table.toString();
}
