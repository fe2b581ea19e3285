import type { FanOutScanIntent, Plan, PlanNote, StopInstancesIntent } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { asksApproval, budgetAtApproval } from '#shared/idle/approval.ts';
import type { IdleVerdict } from '#shared/idle/fleet.ts';
import type { IdleStopsGathered } from '#shared/idle/gather.ts';
import {
  cappedNote,
  decideIdleStops,
  idleRuleSentence,
  loggedVerdictsAt,
  PAGE_STOP_ROWS,
  stopIntentFor,
  unreadableSentence,
} from '#shared/idle/plan.ts';
import { priceBasis } from '#shared/idle/pricing.ts';
import { verdictTableData } from '#shared/idle/verdictTable.ts';
import { asRegionPart, nothingToStopPart, sweepNotes, sweepPages } from './fanIn.ts';
import type { IdleScanGathered } from './gather.ts';
import { type IdleScanPageData, idleScanPageText } from './scanPage.ts';
import type { IdleRun, IdleScanConfig } from './settings.ts';
import type { IdleScanPageIntent, PlannedScanPageIntent } from './summaryPage.ts';

// The idle scan's own plan: its findings and summary page around the idle stopper's decision.
export type IdleScanIntent = StopInstancesIntent | IdleScanPageIntent | FanOutScanIntent;

/** What a run found: its settings, counts, stops and every verdict (a manual invoke returns them all). */
export interface IdleScanFindings {
  trigger: IdleRun['trigger'];
  dryRun: boolean;
  scope: IdleRun['scope'];
  policy: IdleRun['policy'];
  maxStopsPerHour: number;
  stopsInLastHour: number;
  overrides: IdleRun['overrides'];
  window: IdleStopsGathered['window'];
  counts: { considered: number; stop: number; capped: number; spared: number; excluded: number };
  stops: Pick<IdleVerdict, 'instanceId' | 'instanceType' | 'reason' | 'estimatedMonthlySavingUsd'>[];
  estimatedMonthlySavingUsd: number;
  unpricedStops: string[];
  /** How the savings were priced: the region and the basis of the estimate. */
  priceBasis: string;
  scanStats: IdleStopsGathered['scanStats'];
  /** Every verdict; a scheduled run's response leaves them out (they are logged). */
  verdicts?: IdleVerdict[];
}

/** Where the full verdicts of a run are: a manual invoke returns them, a scheduled run logs them. */
function whereVerdicts(trigger: IdleRun['trigger'], functionName: string, correlationId: string): string {
  return trigger === 'manual'
    ? 'in the result of this manual invoke (findings.verdicts).'
    : loggedVerdictsAt(functionName, correlationId);
}

/** Pure: one stop intent for the idle instances within the cap, and one summary page when there are any. */
export function planIdleScan(input: {
  signal: Signal;
  facts: IdleRun;
  gathered: IdleScanGathered;
  config: IdleScanConfig;
}): Plan<IdleScanIntent, IdleScanFindings> {
  const { signal, facts: run, gathered, config } = input;
  // An organization's scheduled run decides nothing itself: each target's worker run does. Before it
  // fans out, it pages the summaries of earlier runs whose regions never all finished (the sweep).
  if ('fanOut' in gathered) {
    const fanOut: FanOutScanIntent = {
      kind: 'sqs.fan-out-scan',
      run: signal.correlationId,
      targets: gathered.fanOut,
    };
    const sweep = sweepPages(
      signal,
      gathered.unfinished,
      `Idle by the stage's rule: ${idleRuleSentence(run.policy)}.`,
    );
    return { intents: [...sweep, fanOut], notes: sweepNotes(gathered.leftOut), dryRun: run.dryRun };
  }
  // A run the account's mode or the kill switch made dry is planned again with a dry config.
  const dryRun = run.dryRun || config.dryRun;
  // Stops that wait for approval spend the hour's budget when approved, not at the scan.
  const approval = asksApproval(config.idleStop, dryRun);
  const judged = approval ? budgetAtApproval(gathered) : gathered;
  const { budget } = judged;
  const { verdicts, summary, stops } = decideIdleStops(judged, run, signal.region);
  const pricing = priceBasis(signal.region);
  const notes: PlanNote[] = [];
  const findings: IdleScanFindings = {
    trigger: run.trigger,
    dryRun: run.dryRun,
    scope: run.scope,
    policy: run.policy,
    maxStopsPerHour: run.maxStopsPerHour,
    stopsInLastHour: budget.usedInLastHour,
    overrides: run.overrides,
    window: gathered.window,
    counts: {
      considered: summary.considered,
      stop: summary.stopped,
      capped: summary.capped,
      spared: summary.spared,
      excluded: summary.excluded,
    },
    stops: stops.map(({ instanceId, instanceType, reason, estimatedMonthlySavingUsd }) => ({
      instanceId,
      instanceType,
      reason,
      estimatedMonthlySavingUsd,
    })),
    estimatedMonthlySavingUsd: summary.estimatedMonthlySavingUsd,
    unpricedStops: summary.unpricedStops,
    priceBasis: pricing.label,
    scanStats: gathered.scanStats,
    verdicts,
  };

  if (summary.capped > 0) notes.push(cappedNote(summary.capped, run.maxStopsPerHour, budget.usedInLastHour));
  const unreadable = unreadableSentence(gathered.scanStats);
  if (unreadable) notes.push({ decision: 'skipped', reason: 'metrics-unavailable', detail: unreadable });
  const evidence = {
    ...signal.evidence,
    stopsInLastHour: budget.usedInLastHour,
    metricsRequested: gathered.scanStats.metricsRequested,
  };
  const reason = `Idle by the stage's rule: ${idleRuleSentence(run.policy)}.`;
  if (stops.length === 0) {
    const detail = `no idle instance to stop among ${summary.considered} running (${summary.spared} spared, ${summary.excluded} excluded)`;
    notes.push({ decision: 'skipped', reason: 'nothing-to-do', detail });
    // An organization's region still counts in its account's summary, which it pages with nothing of its own.
    const part = nothingToStopPart(signal, run, config, evidence, detail, reason);
    return { intents: part, notes, findings, dryRun: run.dryRun };
  }

  // Planned before the stops run: the subject says what is attempted; the body lists each result. The
  // page executor renders it again from `idle` when StopInstances refused some for stop protection.
  const verb = dryRun ? 'would stop' : approval ? 'needs approval to stop' : 'stopping';
  const planned = stopIntentFor(stops, run, { correlationId: signal.correlationId });
  const { target } = run;
  const stop: StopInstancesIntent = target
    ? {
        ...planned,
        target: { account: target.account, region: target.region },
      }
    : planned;
  const idle: IdleScanPageData = {
    verb,
    dryRun,
    considered: summary.considered,
    capped: summary.capped,
    cappedMonthlySavingUsd: summary.cappedMonthlySavingUsd,
    table: verdictTableData(verdicts),
    ...(unreadable ? { unreadable } : {}),
    whereAll: whereVerdicts(run.trigger, config.functionName, signal.correlationId),
    priceLabel: pricing.label,
  };
  const text = idleScanPageText(idle);
  const page: PlannedScanPageIntent = {
    ...pageIntent(signal, {
      notice: 'incident',
      severity: 'warning',
      // The page summarizes the run: its title, summary and resources are the decision's, not the scan's.
      say: {
        title: text.title,
        summary: text.summary,
        resources: stops.slice(0, PAGE_STOP_ROWS).map((v) => ({ type: 'ec2 instance', id: v.instanceId })),
        evidence,
      },
      reason,
      details: text.details ?? [],
    }),
    idle,
  };
  // On an organization's worker run, the page is the region's part of its account's one summary.
  const part = asRegionPart(
    page,
    run,
    config,
    stops.map((v) => v.instanceId),
  );
  return { intents: [stop, part], notes, findings, dryRun: run.dryRun };
}
