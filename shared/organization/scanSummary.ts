import type { PageIntent } from '#shared/domain/intent.ts';
import type { FanInBase, RegionResult, RegionScanned } from './scanFanIn.ts';

/**
 * The one summary page of one scan run of one account (pure): per region, what was stopped, would be
 * stopped or awaits approval, with each stop's evidence; a region that stopped nothing says so in a
 * line, and a region that never finished is listed as not read.
 */

/** One incident per run and account: a retried region, or the sweep after it, cannot page it twice. */
export const summaryIncidentKey = (run: string, account: string) => `idle-scan#${run}#${account}`;

/** Why a region is missing from a summary the sweep sends. */
export const NOT_READ = 'not read (its scan failed after its retries)';

/** Whether the summary has anything to say: a region stopped, would stop, or tried to. */
export const stoppedAnything = (regions: readonly RegionScanned[]): boolean =>
  regions.some((r) => r.result !== 'nothing');

const VERBS: Record<Exclude<RegionResult, 'nothing'>, string> = {
  stopped: 'stopped',
  'would-stop': 'would stop',
  'awaits-approval': 'needs approval to stop',
  'not-stopped': 'did not stop',
};

function regionHeading(r: RegionScanned): string {
  if (r.result === 'nothing') return `Region ${r.region}: nothing to stop`;
  const ids = r.stops.length > 0 ? `: ${r.stops.join(', ')}` : '';
  const count = r.result === 'not-stopped' ? '' : ` ${r.stops.length} instance(s)`;
  return `Region ${r.region}: ${VERBS[r.result]}${count}${ids}`;
}

export interface AccountSummary {
  run: string;
  account: string;
  /** The run's regions, in order. */
  runRegions: readonly string[];
  regions: readonly RegionScanned[];
  /** Regions without a result, and why (only the sweep sends a summary with any). */
  missing: readonly string[];
  base: FanInBase;
}

/** The summary page, on the frame of a region's page (`frame`: its source, links, time and correlation). */
export function accountSummaryPage(frame: PageIntent, s: AccountSummary): PageIntent {
  const total = (result: RegionResult) =>
    s.regions.filter((r) => r.result === result).reduce((n, r) => n + r.stops.length, 0);
  const parts = (['stopped', 'would-stop', 'awaits-approval'] as const)
    .map((result) => ({ result, n: total(result) }))
    .filter(({ n }) => n > 0)
    .map(({ result, n }) => `${VERBS[result]} ${n}`);
  const what = parts.length > 0 ? `${parts.join(', ')} instance(s)` : 'stopped no instance';
  const inRegions = `${s.runRegions.length} region(s)`;
  const details = [
    `Per region (run ${s.run}, account ${s.account}):`,
    ...s.regions.flatMap((r) => [regionHeading(r), ...r.lines.map((l) => `  ${l}`)]),
    ...s.missing.map((region) => `Region ${region}: ${NOT_READ}`),
  ];
  return {
    ...frame,
    incidentKey: summaryIncidentKey(s.run, s.account),
    content: {
      ...frame.content,
      title: `idle scan ${what} in account ${s.account} (${inRegions})`,
      summary:
        `One scan run of account ${s.account} over ${inRegions}: ` +
        `${s.regions.filter((r) => r.result !== 'nothing').length} region(s) with idle instances, ` +
        `${s.regions.filter((r) => r.result === 'nothing').length} with nothing to stop` +
        `${s.missing.length > 0 ? `, ${s.missing.length} ${NOT_READ}` : ''}.`,
      account: s.account,
      region: s.runRegions.join(', '),
      resources: s.regions.flatMap((r) =>
        r.result === 'nothing' ? [] : r.stops.map((id) => ({ type: `ec2 instance (${r.region})`, id })),
      ),
      evidence: s.base.evidence,
      reason: s.base.reason,
      details,
      nothingDone:
        'Per region, above: each region run stops (or previews) its own; the action log has each action.',
    },
  };
}
