import { usd } from '#shared/domain/format.ts';
import type { PageContent, PageIntent } from '#shared/domain/intent.ts';
import {
  excludedCount,
  renderVerdictTable,
  sparedCount,
  stopsOf,
  type VerdictTableData,
  withRefusals,
} from '#shared/idle/verdictTable.ts';

/**
 * The idle scan's page text, pure: planned before the stops run, and rendered again by the page
 * executor from the same data once they ran, when StopInstances refused some for their stop protection
 * (stop protection is not read before stopping). A page without refusals is the planned one.
 */

/** What the page is rendered from: bounded by the page's row limits (verdictTable.ts). */
export interface IdleScanPageData {
  /** What the run does with its stops: 'stopping', 'would stop', 'needs approval to stop'. */
  verb: string;
  dryRun: boolean;
  considered: number;
  capped: number;
  cappedMonthlySavingUsd: number;
  table: VerdictTableData;
  /** What the scan could not read (unreadableSentence), when anything. */
  unreadable?: string;
  /** Where every verdict is. */
  whereAll: string;
  priceLabel: string;
}

export type IdleScanText = Pick<PageContent, 'title' | 'summary' | 'details'>;

/** Pure: the page's title, summary and body lines. */
export function idleScanPageText(d: IdleScanPageData): IdleScanText {
  const stops = stopsOf(d.table);
  const refused = d.table.refusedCount;
  const saving = `${usd(stops.savingUsd)}/month${stops.unpriced.length > 0 ? ` + ${stops.unpriced.length} unpriced` : ''}`;
  const excluded = excludedCount(d.table);
  return {
    // Short, to fit the subject's 100 characters: the body says which and why.
    title: `idle scan ${d.verb} ${stops.count} instance(s) (est. ${saving})${refused > 0 ? `; ${refused} stop-protected` : ''}`,
    summary:
      `${d.considered} running instance(s) considered: ${stops.count} idle ${d.dryRun ? 'to stop (dry-run)' : 'to stop'}, ` +
      `${d.capped} capped, ${sparedCount(d.table)} spared, ${excluded} excluded` +
      `${refused > 0 ? ` (${refused} refused by stop protection when stopped)` : ''}.`,
    details: [
      ...(d.unreadable ? [d.unreadable] : []),
      ...renderVerdictTable(d.table, d.whereAll),
      `Estimated monthly saving: ${saving}${d.capped > 0 ? `; capped instances would add ${usd(d.cappedMonthlySavingUsd)}` : ''} (on-demand compute, EBS stays billed; ${d.priceLabel})`,
    ],
  };
}

/**
 * Pure: the planned page once its stops ran. The instances StopInstances refused for their stop
 * protection (`refused`) are excluded: out of the subject's count and saving, the summary's counts, the
 * resources and the table's stop rows. Without a refusal among its stops, the page is as planned.
 */
export function pageAfterStops(
  page: PageIntent,
  data: IdleScanPageData,
  refused: ReadonlySet<string>,
): PageIntent {
  const table = withRefusals(data.table, refused);
  if (table === data.table) return page;
  return {
    ...page,
    content: {
      ...page.content,
      ...idleScanPageText({ ...data, table }),
      resources: page.content.resources.filter((r) => !refused.has(r.id)),
    },
  };
}

/** Pure: the planned page's body lines (`planned`) once its stops ran, as `pageAfterStops` renders them. */
export function detailsAfterStops(
  planned: string[],
  data: IdleScanPageData,
  refused: ReadonlySet<string>,
): string[] {
  const table = withRefusals(data.table, refused);
  return table === data.table ? planned : (idleScanPageText({ ...data, table }).details ?? planned);
}
