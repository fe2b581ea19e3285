import Table from 'cli-table3';
import type { ActionLogEntry } from '#shared/state/actionLog.ts';

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
