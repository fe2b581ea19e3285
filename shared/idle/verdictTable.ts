import { decimalBytes as bytes, percent as pct, textTable, usd } from '#shared/domain/format.ts';
import type { IdleVerdict } from './fleet.ts';
import { roundCents } from './pricing.ts';

/**
 * A page must fit SNS's 256 KB whatever the fleet: it lists this many stops (the hourly limit allows up
 * to 1000) and capped instances (a large fleet has thousands), counts the rest, and says where every
 * verdict is.
 */
export const PAGE_STOP_ROWS = 200;
export const PAGE_CAPPED_ROWS = 50;

/** Why a refused instance is excluded after the stop: stop protection is learnt from the refusal. */
export const STOP_REFUSAL_REASON = 'Stop protection is on: StopInstances refused it (OperationNotPermitted).';

/** What the page's table shows of one verdict (its reason is in the action log and the logged verdicts). */
export type VerdictRow = Pick<
  IdleVerdict,
  'instanceId' | 'instanceType' | 'decision' | 'evidence' | 'estimatedMonthlySavingUsd'
>;

/**
 * The page's table as data, bounded by its row limits: the listed rows, each unlisted stop's id and
 * saving (at most the hourly limit), and the other verdicts counted. A page can be rendered again from it
 * once the stops ran (`withRefusals`), without the fleet's verdicts.
 */
export interface VerdictTableData {
  /** The first PAGE_STOP_ROWS 'stop' verdicts, in verdict order. */
  stops: VerdictRow[];
  /** The other stops: id and saving, so a refusal among them still leaves the right count and saving. */
  unlistedStops: [string, IdleVerdict['estimatedMonthlySavingUsd']][];
  /** Listed stops that StopInstances refused for stop protection: excluded rows (none when planned). */
  refused: VerdictRow[];
  /** Every stop refused for stop protection, listed or not (0 when planned). */
  refusedCount: number;
  /** The first PAGE_CAPPED_ROWS capped verdicts, and how many there are. */
  capped: VerdictRow[];
  cappedCount: number;
  /** Spared per status, excluded per exclusion. */
  spared: Record<string, number>;
  excluded: Record<string, number>;
}

const rowOf = ({ instanceId, instanceType, decision, evidence, estimatedMonthlySavingUsd }: IdleVerdict) => ({
  instanceId,
  instanceType,
  decision,
  ...(evidence ? { evidence } : {}),
  estimatedMonthlySavingUsd,
});

function countsOf(labels: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((n, c) => n + c, 0);

/** As countBy: each label and its count, sorted by label. */
const countsText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/** Pure: the table data of a decision's verdicts. */
export function verdictTableData(verdicts: readonly IdleVerdict[]): VerdictTableData {
  const stops = verdicts.filter((v) => v.decision === 'stop');
  const capped = verdicts.filter((v) => v.decision === 'capped');
  return {
    stops: stops.slice(0, PAGE_STOP_ROWS).map(rowOf),
    unlistedStops: stops.slice(PAGE_STOP_ROWS).map((v) => [v.instanceId, v.estimatedMonthlySavingUsd]),
    refused: [],
    refusedCount: 0,
    capped: capped.slice(0, PAGE_CAPPED_ROWS).map(rowOf),
    cappedCount: capped.length,
    spared: countsOf(verdicts.filter((v) => v.decision === 'spare').map((v) => v.status ?? 'spare')),
    excluded: countsOf(
      verdicts.filter((v) => v.decision === 'excluded').map((v) => v.exclusion ?? 'excluded'),
    ),
  };
}

/**
 * Pure: the table once the stops ran. Each stop that StopInstances refused for its stop protection
 * (`refused`) is excluded ('stop-protection'), as the run's returned verdicts are; the rest is as planned.
 */
export function withRefusals(t: VerdictTableData, refused: ReadonlySet<string>): VerdictTableData {
  const moved = t.stops.filter((r) => refused.has(r.instanceId));
  const unlistedStops = t.unlistedStops.filter(([id]) => !refused.has(id));
  const count = moved.length + (t.unlistedStops.length - unlistedStops.length);
  if (count === 0) return t;
  return {
    ...t,
    stops: t.stops.filter((r) => !refused.has(r.instanceId)),
    unlistedStops,
    refused: [...t.refused, ...moved.map((r) => ({ ...r, decision: 'excluded' as const }))],
    refusedCount: t.refusedCount + count,
    excluded: { ...t.excluded, 'stop-protection': (t.excluded['stop-protection'] ?? 0) + count },
  };
}

/** The stops' count, estimated monthly saving (summed in verdict order, as the plan sums) and unpriced ids. */
export function stopsOf(t: VerdictTableData): { count: number; savingUsd: number; unpriced: string[] } {
  const all: [string, IdleVerdict['estimatedMonthlySavingUsd']][] = [
    ...t.stops.map((r): [string, IdleVerdict['estimatedMonthlySavingUsd']] => [
      r.instanceId,
      r.estimatedMonthlySavingUsd,
    ]),
    ...t.unlistedStops,
  ];
  let saving = 0;
  const unpriced: string[] = [];
  for (const [id, usdMonth] of all) {
    if (usdMonth === 'unknown') unpriced.push(id);
    else saving += usdMonth;
  }
  return { count: all.length, savingUsd: roundCents(saving), unpriced };
}

export const sparedCount = (t: VerdictTableData): number => total(t.spared);
export const excludedCount = (t: VerdictTableData): number => total(t.excluded);

/**
 * The page body's table: the stopped (or would-stop) and capped instances, each list bounded, then the
 * others counted; `whereAll` says where the full verdicts are. A stop refused for its stop protection is
 * listed as excluded, with the refusal as its reason.
 */
export function renderVerdictTable(t: VerdictTableData, whereAll: string): string[] {
  const unlisted = [
    ...(t.unlistedStops.length > 0 ? [`  ... ${t.unlistedStops.length} more to stop (not listed)`] : []),
    ...(t.cappedCount > t.capped.length
      ? [`  ... ${t.cappedCount - t.capped.length} more capped (not listed)`]
      : []),
  ];
  const header = ['decision', 'instance', 'type', 'max CPU', 'max net/h', 'hours', 'saving/month'];
  const rows = [...t.stops, ...t.refused, ...t.capped].map((v) => [
    v.decision,
    v.instanceId,
    v.instanceType,
    pct(v.evidence?.maxCpuPercent ?? null),
    bytes(v.evidence?.maxNetworkBytesPerHour ?? null),
    v.evidence ? `${v.evidence.cpuHoursCovered}/${v.evidence.hoursExpected}` : '-',
    v.decision === 'stop'
      ? typeof v.estimatedMonthlySavingUsd === 'number'
        ? usd(v.estimatedMonthlySavingUsd)
        : 'unknown'
      : '-',
  ]);
  const refusals = t.refused.map(
    (r) => `  excluded ${r.instanceId} (stop-protection): ${STOP_REFUSAL_REASON}`,
  );
  const spared = sparedCount(t);
  const excluded = excludedCount(t);
  return [
    'Verdicts',
    ...textTable(header, rows),
    ...unlisted,
    ...refusals,
    '',
    `Spared: ${spared}${spared > 0 ? ` (${countsText(t.spared)})` : ''}`,
    `Excluded: ${excluded}${excluded > 0 ? ` (${countsText(t.excluded)})` : ''}`,
    `Every verdict with its reason: ${whereAll}`,
  ];
}
