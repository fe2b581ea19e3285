import { decimalBytes as bytes } from '#shared/domain/format.ts';
import type { PlanNote, StopInstancesIntent } from '#shared/domain/intent.ts';
import {
  decideFleet,
  type IdleVerdict,
  quietestFirst,
  type SavingsSummary,
  summarizeSavings,
} from './fleet.ts';
import type { IdleStopsGathered } from './gather.ts';
import type { IdlePolicy } from './idleness.ts';
import type { IdleStopRule } from './rule.ts';
import { renderVerdictTable, verdictTableData } from './verdictTable.ts';

export { PAGE_CAPPED_ROWS, PAGE_STOP_ROWS } from './verdictTable.ts';

/**
 * The ops:stop-reason tag: the rule and its thresholds, which every instance of the run met, and where
 * its own figures are. The same for the run, so its stops are tagged in one call (at most 256 characters).
 */
export function stopTagReason(policy: IdlePolicy, correlationId: string): string {
  return (
    `idle-stop: hourly CPU max < ${policy.cpuThresholdPercent} %, network < ${bytes(policy.networkThresholdBytesPerHour)}/h ` +
    `over ${policy.lookbackHours} h (${Math.round(policy.minCoverage * 100)} % of hours with data); ` +
    `own figures in the action log, run ${correlationId.slice(0, 100)}`
  );
}

/** The page body's table of a decision's verdicts (verdictTable.ts). */
export function verdictTable(verdicts: readonly IdleVerdict[], whereAll: string): string[] {
  return renderVerdictTable(verdictTableData(verdicts), whereAll);
}

/** Where the verdicts a decision logged are (`logVerdicts`). */
export const loggedVerdictsAt = (functionName: string, correlationId: string): string =>
  `in CloudWatch Logs, log group /aws/lambda/${functionName}, entries "idle verdicts" with correlationId ${correlationId}.`;

/**
 * A retried run finishes the decision its first attempt recorded before stopping anything: what that
 * attempt stopped is no longer running (so the scan no longer sees it), and nothing new may join. The
 * recorded instances are stops again (stopping a stopped instance changes nothing; it gets its tags
 * and its page), and any other idle instance waits for the next run.
 */
export function finishFirstDecision(
  verdicts: readonly IdleVerdict[],
  recorded: readonly string[],
): IdleVerdict[] {
  const inDecision = new Set(recorded);
  const seen = new Set(verdicts.map((v) => v.instanceId));
  const rest = verdicts.map(
    (v): IdleVerdict =>
      v.decision === 'stop' && !inDecision.has(v.instanceId)
        ? {
            ...v,
            decision: 'capped',
            reason: "Not in this run's first decision: a retried run only finishes that.",
          }
        : v,
  );
  const earlier = recorded
    .filter((id) => !seen.has(id))
    .map(
      (instanceId): IdleVerdict => ({
        instanceId,
        instanceType: 'unknown',
        decision: 'stop',
        reason: 'In the first decision of this run, whose earlier attempt already stopped it.',
        estimatedMonthlySavingUsd: 'unknown',
      }),
    );
  return [...earlier, ...rest];
}

/** One stop decision over the fleet: every verdict, their counts, and the instances to stop. */
export interface IdleStops {
  verdicts: IdleVerdict[];
  summary: SavingsSummary;
  /** The 'stop' verdicts, quietest first. */
  stops: IdleVerdict[];
}

/**
 * Pure: the verdicts of a stop decision within what the hour's budget leaves; a retried decision only
 * finishes the stop list its first attempt recorded. Every function that stops instances decides here.
 */
export function decideIdleStops(
  gathered: IdleStopsGathered,
  rule: IdleStopRule,
  /** The stack's region: savings are priced for it. */
  region: string,
): IdleStops {
  const fresh = decideFleet({
    instances: gathered.instances,
    cpu: gathered.cpu,
    netIn: gathered.netIn,
    netOut: gathered.netOut,
    unreadable: gathered.unreadable,
    policy: rule.policy,
    scope: rule.scope,
    maxStopsPerHour: rule.maxStopsPerHour,
    stopsInLastHour: gathered.budget.usedInLastHour,
    region,
  });
  const verdicts = gathered.recordedStops ? finishFirstDecision(fresh, gathered.recordedStops) : fresh;
  // Quietest first: if another run spends the hour's budget meanwhile, the claim keeps the clearest cases.
  const stops = verdicts.filter((v) => v.decision === 'stop').sort(quietestFirst);
  return { verdicts, summary: summarizeSavings(verdicts, region), stops };
}

/** The note for idle instances the hourly limit left running. */
export function cappedNote(capped: number, maxStopsPerHour: number, usedInLastHour: number): PlanNote {
  return {
    decision: 'skipped',
    reason: 'capped',
    detail:
      `${capped} idle instance(s) not stopped: the limit is ${maxStopsPerHour} stop(s) per rolling ` +
      `hour, ${usedInLastHour} already made in the last hour`,
  };
}

/**
 * What the scan could not read, for the page and the action log: a DescribeInstances page that failed
 * after the first (the rest of the fleet unread), and instances whose GetMetricData page failed (spared
 * as no-data); undefined when every page was read.
 */
export function unreadableSentence(stats: IdleStopsGathered['scanStats']): string | undefined {
  const sentences: string[] = [];
  if (stats.fleetPartlyRead !== undefined) {
    sentences.push(
      `Fleet partly read: ${stats.fleetPartlyRead}; ${stats.instancesRunning} running instance(s) read and ` +
        'judged, the rest not read and not stopped.',
    );
  }
  if (stats.instancesUnreadable > 0) {
    sentences.push(
      `Metrics unavailable: ${stats.instancesUnreadable} of ${stats.instancesInScope} instance(s) unreadable ` +
        `(${stats.metricPagesFailed} GetMetricData page(s) failed); spared as no-data, not stopped.`,
    );
  }
  return sentences.length > 0 ? sentences.join(' ') : undefined;
}

/** The stage's idle rule as a sentence: what every stopped instance was judged by. */
export function idleRuleSentence(policy: IdleStopRule['policy']): string {
  return (
    `every hourly CPU maximum below ${policy.cpuThresholdPercent} % and network below ` +
    `${bytes(policy.networkThresholdBytesPerHour)} per hour over ${policy.lookbackHours} h, with data for ` +
    `at least ${Math.round(policy.minCoverage * 100)} % of the hours`
  );
}

/**
 * The stop intent of a decision: each instance with its own evidence (the action log keeps it), and one
 * ops:stop-reason tag for them all, the rule and its thresholds (after `why`, when another function's
 * decision says what it stops for), claimed against the hour's limit under `run` (the delivery's
 * correlation id when unset).
 */
export function stopIntentFor(
  stops: readonly IdleVerdict[],
  rule: Pick<IdleStopRule, 'policy' | 'maxStopsPerHour'>,
  decision: { run?: string; why?: string; correlationId: string },
): StopInstancesIntent {
  const prefix = decision.why ? `${decision.why}: ` : '';
  return {
    kind: 'ec2.stop-instances',
    instances: stops.map((v) => ({ instanceId: v.instanceId, reason: `${prefix}${v.reason}` })),
    reason: `${prefix}${stops.length} instance(s) idle over the last ${rule.policy.lookbackHours} h`,
    tagReason: `${prefix}${stopTagReason(rule.policy, decision.run ?? decision.correlationId)}`,
    maxStopsPerHour: rule.maxStopsPerHour,
    ...(decision.run ? { run: decision.run } : {}),
  };
}
