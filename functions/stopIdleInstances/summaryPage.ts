import type { FanOutScanIntent, PageIntent } from '#shared/domain/intent.ts';
import { failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import { describeOutcome } from '#shared/domain/page.ts';
import { fanOutScanExecutor } from '#shared/executors/fanOutScan.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutionContext, NotifyingExecutor } from '#shared/executors/types.ts';
import { refusedByStopProtection } from '#shared/idle/report.ts';
import {
  closeUnfinished,
  KEPT_SECONDS,
  type RegionResult,
  type RegionScanned,
  recordRegionScanned,
} from '#shared/organization/scanFanIn.ts';
import { accountSummaryPage, stoppedAnything } from '#shared/organization/scanSummary.ts';
import { recordRunFannedOut } from '#shared/organization/scanSweep.ts';
import { detailsAfterStops, type IdleScanPageData, pageAfterStops } from './scanPage.ts';

/**
 * An organization's scan pages one summary per account and run (docs/ORGANIZATION.md): a region's run
 * plans its page as today, marked with its part of the fan-in (`fanIn`); this executor records what the
 * region's stops came to and pages only when the record tells it to, the account's summary over every
 * region. The sweep's page (`sweep`) closes an unfinished record first. Any other page goes out as is.
 */

/** A region's part of its account's summary: the plan's, before the stops ran. */
export interface RegionFanIn {
  run: string;
  account: string;
  region: string;
  /** The run's regions (organization.regions). */
  regions: string[];
  /** The instances the region's plan stops. */
  planned: string[];
  /** The plan's lines for the summary: each stop's evidence, or why there is nothing to stop. */
  lines: string[];
}

/** A page with stops: `idle` is what it is rendered from, again once the stops ran (scanPage.ts). */
export type PlannedScanPageIntent = PageIntent & { idle: IdleScanPageData };
export type RegionPageIntent = PageIntent & { fanIn: RegionFanIn; idle?: IdleScanPageData };
export type SweepPageIntent = PageIntent & {
  sweep: { run: string; account: string; expected: number; dryRun: boolean };
};
export type IdleScanPageIntent = PageIntent | PlannedScanPageIntent | RegionPageIntent | SweepPageIntent;

/** The page as its stops turned out (a refusal for stop protection excludes the instance), without `idle`. */
function afterStops(intent: PageIntent & { idle?: IdleScanPageData }, prior: readonly Outcome[]): PageIntent {
  const { idle, ...page } = intent;
  return idle ? pageAfterStops(page, idle, refusedByStopProtection(prior)) : page;
}

/** The summary's page: a day's suppression (the record's life, past every retry), no other action listed. */
function summaryContext(ctx: ExecutionContext, dryRun: boolean): ExecutionContext {
  const { forcedDryRun: _each, ...rest } = ctx;
  const paging = { ...ctx.config.paging, suppressionWindowMinutes: KEPT_SECONDS / 60 };
  return { ...rest, prior: [], config: { ...ctx.config, dryRun, paging } };
}

/**
 * What the region's stops came to, from their outcome; undefined when they failed (the retry records).
 * Its lines are its page's as the stops turned out (`idle`: what the page is rendered from).
 */
export function regionScannedOf(
  fanIn: RegionFanIn,
  prior: readonly Outcome[],
  idle?: IdleScanPageData,
): RegionScanned | undefined {
  const stop = prior.find((o) => o.kind === 'ec2.stop-instances');
  if (!stop) {
    return { region: fanIn.region, stops: [], previewed: false, result: 'nothing', lines: fanIn.lines };
  }
  if (stop.status === 'failed') return undefined;
  const stoppedIds = Object.entries(stop.refs ?? {})
    .filter(([, ref]) => ref.startsWith('stopped'))
    .map(([id]) => id);
  const previewed = stop.reason === 'dry-run' || stop.reason === 'change-freeze';
  const result: RegionResult =
    stop.status === 'done'
      ? 'stopped'
      : previewed
        ? 'would-stop'
        : stop.reason === 'approval-pending'
          ? 'awaits-approval'
          : 'not-stopped';
  const stops = result === 'stopped' ? stoppedIds : result === 'not-stopped' ? [] : fanIn.planned;
  return {
    region: fanIn.region,
    stops,
    previewed,
    result,
    lines: [
      describeOutcome(stop).replace(/^- /, ''),
      ...(idle ? detailsAfterStops(fanIn.lines, idle, refusedByStopProtection(prior)) : fanIn.lines),
    ],
  };
}

async function recordAndPage(intent: RegionPageIntent, ctx: ExecutionContext): Promise<Outcome> {
  const { fanIn } = intent;
  const scanned = regionScannedOf(fanIn, ctx.prior, intent.idle);
  if (!scanned) {
    // Its retry records it: a result recorded now would be the failed attempt's, and a retry adds nothing.
    return skipped(
      intent.kind,
      'superseded',
      `${fanIn.region} not recorded in its account's summary: its stops failed, and its retry records it`,
    );
  }
  // The account's evidence (its name, OU path, the rule): one region's own figures would mislead.
  const { stopsInLastHour: _budget, metricsRequested: _metrics, ...evidence } = intent.content.evidence;
  const base = { evidence, reason: intent.content.reason };
  const joined = await recordRegionScanned(fanIn.run, fanIn.account, fanIn.regions, scanned, base);
  const of = `account ${fanIn.account}'s summary of run ${fanIn.run}`;
  if (joined.closed) {
    return skipped(
      intent.kind,
      'superseded',
      `${fanIn.region} finished after the sweep closed ${of} and paged it; its result is in this action log`,
    );
  }
  if (!joined.pages) {
    return skipped(
      intent.kind,
      'superseded',
      `recorded ${fanIn.region} in ${of}; still to finish: ${joined.missing.join(', ')} (the last to finish pages it)`,
    );
  }
  if (!stoppedAnything(joined.regions)) {
    return skipped(
      intent.kind,
      'nothing-to-do',
      `no region of ${of} stopped or would stop anything: no page`,
    );
  }
  const summary = accountSummaryPage(intent, {
    run: fanIn.run,
    account: fanIn.account,
    runRegions: fanIn.regions,
    regions: joined.regions,
    missing: [],
    base: joined.base ?? base,
  });
  const { fanIn: _recorded, idle: _rendered, ...page } = summary as RegionPageIntent;
  const dryRun = joined.regions.every((r) => r.result !== 'stopped');
  return pageExecutor.execute(page, summaryContext(ctx, dryRun));
}

async function closeAndPage(intent: SweepPageIntent, ctx: ExecutionContext): Promise<Outcome> {
  const { run, account, expected, dryRun } = intent.sweep;
  if (!(await closeUnfinished(run, account, expected, ctx.signal.correlationId))) {
    return skipped(
      intent.kind,
      'superseded',
      `account ${account}'s summary of run ${run} was completed or closed meanwhile: its last region pages it`,
    );
  }
  const { sweep: _closed, ...page } = intent;
  return pageExecutor.execute(page, summaryContext(ctx, dryRun));
}

/** The scan's page executor: a region's part of a summary, the sweep's summary, or a page as it is. */
export const idleScanPageExecutor: NotifyingExecutor<IdleScanPageIntent> = {
  ...pageExecutor,
  async execute(intent, ctx) {
    try {
      if ('fanIn' in intent) return await recordAndPage(intent, ctx);
      if ('sweep' in intent) return await closeAndPage(intent, ctx);
    } catch (error) {
      // The state table could not record or close: the delivery is retried, and pages then.
      return failed(intent.kind, error, "could not record or close the account's summary; not paged");
    }
    return pageExecutor.execute(afterStops(intent, ctx.prior), ctx);
  },
};

/** The fan-out, which first writes its run into the sweep's index (scanSweep.ts), then queues the targets. */
export const idleScanFanOutExecutor: NotifyingExecutor<FanOutScanIntent> = {
  ...fanOutScanExecutor,
  async execute(intent, ctx) {
    if (intent.targets.length > 0) {
      try {
        await recordRunFannedOut({
          run: intent.run,
          scheduledAt: ctx.signal.occurredAt,
          accounts: [...new Set(intent.targets.map((t) => t.account))],
          regions: [...new Set(intent.targets.map((t) => t.region))],
        });
      } catch (error) {
        // Unindexed, the run's unfinished regions would never be swept: fail, and the retry indexes it.
        return failed(intent.kind, error, `could not index run ${intent.run} for the sweep; nothing queued`);
      }
    }
    return fanOutScanExecutor.execute(intent, ctx);
  },
};
