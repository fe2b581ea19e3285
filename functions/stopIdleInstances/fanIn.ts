import type { PageIntent, PlanNote } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { accountSummaryPage, stoppedAnything } from '#shared/organization/scanSummary.ts';
import { MAX_SWEPT_RECORDS, type UnfinishedFanIn } from '#shared/organization/scanSweep.ts';
import type { IdleRun, IdleScanConfig } from './settings.ts';
import type { RegionPageIntent, SweepPageIntent } from './summaryPage.ts';

/**
 * Pure: an organization's scan in the plan. A region's page becomes its part of the account's summary
 * (summaryPage.ts records it and pages only when told to), including a region with nothing to stop, so
 * that every region of the account is counted; the scheduled run's sweep plans one summary per
 * unfinished record that stopped or would stop something.
 */

/** The region's page as its part of its account's summary, on an organization's worker run; else unchanged. */
export function asRegionPart(
  page: PageIntent,
  run: IdleRun,
  config: Pick<IdleScanConfig, 'organization'>,
  planned: string[],
): PageIntent | RegionPageIntent {
  const { target } = run;
  if (!target || !config.organization) return page;
  return {
    ...page,
    fanIn: {
      run: target.run,
      account: target.account,
      region: target.region,
      regions: [...config.organization.regions],
      planned,
      lines: page.content.details ?? [],
    },
  };
}

/** A region with nothing to stop: its part of the summary says so, and pages nothing by itself. */
export function nothingToStopPart(
  signal: Signal,
  run: IdleRun,
  config: Pick<IdleScanConfig, 'organization'>,
  evidence: PageIntent['content']['evidence'],
  why: string,
  reason: string,
): RegionPageIntent[] {
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: 'warning',
    say: { evidence, resources: [] },
    reason,
    details: [why],
  });
  const part = asRegionPart(page, run, config, []);
  return 'fanIn' in part ? [part] : [];
}

/** The sweep's summaries: each unfinished record that stopped or would stop something, its missing regions not read. */
export function sweepPages(
  signal: Signal,
  unfinished: readonly UnfinishedFanIn[],
  reason: string,
): SweepPageIntent[] {
  return unfinished
    .filter((u) => stoppedAnything(u.fanIn.regions))
    .map((u) => {
      const frame = pageIntent(signal, { notice: 'incident', severity: 'warning', reason });
      const page = accountSummaryPage(frame, {
        run: u.run,
        account: u.account,
        runRegions: u.runRegions,
        regions: u.fanIn.regions,
        missing: u.fanIn.missing,
        base: u.fanIn.base ?? { evidence: signal.evidence, reason },
      });
      return {
        ...page,
        content: { ...page.content, summary: `${page.content.summary} Swept by the next scheduled run.` },
        sweep: {
          run: u.run,
          account: u.account,
          expected: u.runRegions.length,
          dryRun: u.fanIn.regions.every((r) => r.result !== 'stopped'),
        },
      };
    });
}

/** The sweep's note when it left records unread (they expire in a day; the parked messages' alarm paged). */
export function sweepNotes(leftOut: number): PlanNote[] {
  if (leftOut === 0) return [];
  return [
    {
      decision: 'skipped',
      reason: 'limit-reached',
      detail: `the sweep reads at most ${MAX_SWEPT_RECORDS} fan-in records a run: ${leftOut} left unread (kept a day; the dead-letter queue's alarm pages a region that never finished)`,
    },
  ];
}
