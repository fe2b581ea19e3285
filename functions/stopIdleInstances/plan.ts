import type { RuntimeConfig } from '#shared/config.ts';
import type { PageIntent, Plan, PlanNote, StopInstancesIntent } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { decideFleet, type IdleVerdict, quietestFirst, summarizeSavings } from './fleet.ts';
import type { IdleScanGathered } from './gather.ts';
import { isScheduled } from './schema.ts';
import type { IdleRun, IdleScanRequest } from './settings.ts';

export type IdleScanIntent = StopInstancesIntent | PageIntent;

/** Pure: the run's signal. The correlation id is the event id, or the Lambda request id of a manual invoke. */
export function idleScanSignal(request: IdleScanRequest): Signal {
  const { event, run, invocation } = request;
  const scheduled = isScheduled(event);
  const correlationId = scheduled ? event.id : invocation.requestId;
  const region = scheduled ? event.region : invocation.region;
  return {
    kind: 'ec2.idle-scan',
    severity: 'info',
    title: 'idle instance scan',
    summary: scheduled ? 'Scheduled scan for idle EC2 instances.' : 'Manual scan for idle EC2 instances.',
    account: scheduled ? event.account : invocation.account,
    region,
    resources: [],
    correlationId,
    // Every run is its own incident: one summary page per run that stops something.
    incidentKey: `idle-scan#${correlationId}`,
    occurredAt: scheduled ? event.time : new Date().toISOString(),
    evidence: {
      scope: run.scope,
      lookbackHours: run.policy.lookbackHours,
      cpuThresholdPercent: run.policy.cpuThresholdPercent,
      networkThresholdBytesPerHour: run.policy.networkThresholdBytesPerHour,
      minCoverage: run.policy.minCoverage,
      maxStopsPerHour: run.maxStopsPerHour,
    },
    links: [
      {
        label: 'Instances stopped by ops-autopilot',
        url: `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#Instances:tag:ops:stopped-by=ops-autopilot`,
      },
    ],
  };
}

const usd = (n: number): string => `$${n.toFixed(2)}`;
const pct = (n: number | null): string => (n === null ? '-' : `${Math.round(n * 100) / 100} %`);

function bytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Math.round(value * 10) / 10} ${units[unit]}`;
}

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

/**
 * A page must fit SNS's 256 KB whatever the fleet: it lists this many stops (the hourly limit allows up
 * to 1000) and capped instances (a large fleet has thousands), counts the rest, and says where every
 * verdict is.
 */
export const PAGE_STOP_ROWS = 200;
export const PAGE_CAPPED_ROWS = 50;

/**
 * The page body's table: the stopped (or would-stop) and capped instances, each list bounded, then the
 * others counted; `whereAll` says where the full verdicts are.
 */
export function verdictTable(verdicts: readonly IdleVerdict[], whereAll: string): string[] {
  const stops = verdicts.filter((v) => v.decision === 'stop');
  const capped = verdicts.filter((v) => v.decision === 'capped');
  const acted = [...stops.slice(0, PAGE_STOP_ROWS), ...capped.slice(0, PAGE_CAPPED_ROWS)];
  const unlisted = [
    ...(stops.length > PAGE_STOP_ROWS
      ? [`  ... ${stops.length - PAGE_STOP_ROWS} more to stop (not listed)`]
      : []),
    ...(capped.length > PAGE_CAPPED_ROWS
      ? [`  ... ${capped.length - PAGE_CAPPED_ROWS} more capped (not listed)`]
      : []),
  ];
  const header = ['decision', 'instance', 'type', 'max CPU', 'max net/h', 'hours', 'saving/month'];
  const rows = acted.map((v) => [
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
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}`.trimEnd();
  const spared = verdicts.filter((v) => v.decision === 'spare').map((v) => v.status ?? 'spare');
  const excluded = verdicts.filter((v) => v.decision === 'excluded').map((v) => v.exclusion ?? 'excluded');
  return [
    'Verdicts',
    line(header),
    ...rows.map(line),
    ...unlisted,
    '',
    `Spared: ${spared.length}${spared.length > 0 ? ` (${countBy(spared)})` : ''}`,
    `Excluded: ${excluded.length}${excluded.length > 0 ? ` (${countBy(excluded)})` : ''}`,
    `Every verdict with its reason: ${whereAll}`,
  ];
}

/** Where the full verdicts of a run are: a manual invoke returns them, a scheduled run logs them. */
function whereVerdicts(trigger: IdleRun['trigger'], functionName: string, correlationId: string): string {
  return trigger === 'manual'
    ? 'in the result of this manual invoke (report.verdicts).'
    : `in CloudWatch Logs, log group /aws/lambda/${functionName}, entries "idle verdicts" with correlationId ${correlationId}.`;
}

/** Pure: one stop intent for the idle instances within the cap, and one summary page when there are any. */
export function planIdleScan(input: {
  signal: Signal;
  gathered: IdleScanGathered;
  config: RuntimeConfig;
}): Plan<IdleScanIntent> {
  const { signal, gathered, config } = input;
  const { run, budget } = gathered;
  const verdicts = decideFleet({
    instances: gathered.instances,
    cpu: gathered.cpu,
    netIn: gathered.netIn,
    netOut: gathered.netOut,
    policy: run.policy,
    scope: run.scope,
    maxStopsPerHour: run.maxStopsPerHour,
    stopsInLastHour: budget.usedInLastHour,
  });
  const summary = summarizeSavings(verdicts);
  // Quietest first: if another run spends the hour's budget meanwhile, the claim keeps the clearest cases.
  const stops = verdicts.filter((v) => v.decision === 'stop').sort(quietestFirst);
  const notes: PlanNote[] = [];
  const report = {
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
    scanStats: gathered.scanStats,
    verdicts,
  };

  if (summary.capped > 0) {
    notes.push({
      decision: 'skipped',
      reason: 'capped',
      detail:
        `${summary.capped} idle instance(s) not stopped: the limit is ${run.maxStopsPerHour} stop(s) per rolling ` +
        `hour, ${budget.usedInLastHour} already made in the last hour`,
    });
  }
  if (stops.length === 0) {
    notes.push({
      decision: 'skipped',
      reason: 'nothing-to-do',
      detail: `no idle instance to stop among ${summary.considered} running (${summary.spared} spared, ${summary.excluded} excluded)`,
    });
    return { intents: [], notes, report, dryRun: run.dryRun };
  }

  // Planned before the stops run: the subject says what is attempted; the body lists each result.
  const verb = run.dryRun ? 'would stop' : 'stopping';
  const saving = `${usd(summary.estimatedMonthlySavingUsd)}/month${summary.unpricedStops.length > 0 ? ` + ${summary.unpricedStops.length} unpriced` : ''}`;
  const stop: StopInstancesIntent = {
    kind: 'ec2.stop-instances',
    instances: stops.map((v) => ({ instanceId: v.instanceId, reason: v.reason })),
    reason: `${stops.length} instance(s) idle over the last ${run.policy.lookbackHours} h`,
    maxStopsPerHour: run.maxStopsPerHour,
  };
  const page: PageIntent = {
    kind: 'sns.page',
    notice: 'incident',
    severity: 'warning',
    signal: {
      ...signal,
      severity: 'warning',
      title: `idle scan ${verb} ${stops.length} instance(s) (est. ${saving})`,
      summary:
        `${summary.considered} running instance(s) considered: ${stops.length} idle ${run.dryRun ? 'to stop (dry-run)' : 'to stop'}, ` +
        `${summary.capped} capped, ${summary.spared} spared, ${summary.excluded} excluded.`,
      resources: stops.slice(0, PAGE_STOP_ROWS).map((v) => ({ type: 'ec2 instance', id: v.instanceId })),
      evidence: {
        ...signal.evidence,
        stopsInLastHour: budget.usedInLastHour,
        metricsRequested: gathered.scanStats.metricsRequested,
      },
    },
    reason:
      `Idle by the stage's rule: every hourly CPU maximum below ${run.policy.cpuThresholdPercent} % and network ` +
      `below ${bytes(run.policy.networkThresholdBytesPerHour)} per hour over ${run.policy.lookbackHours} h, with data for ` +
      `at least ${Math.round(run.policy.minCoverage * 100)} % of the hours.`,
    details: [
      ...verdictTable(verdicts, whereVerdicts(run.trigger, config.functionName, signal.correlationId)),
      `Estimated monthly saving: ${saving}${summary.capped > 0 ? `; capped instances would add ${usd(summary.cappedMonthlySavingUsd)}` : ''} (on-demand compute, EBS stays billed)`,
    ],
  };
  return { intents: [stop, page], notes, report, dryRun: run.dryRun };
}
