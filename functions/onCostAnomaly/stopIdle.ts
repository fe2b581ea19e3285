import type { PlanNote, StopInstancesIntent } from '#shared/domain/intent.ts';
import { asksApproval, budgetAtApproval } from '#shared/idle/approval.ts';
import type { IdleVerdict } from '#shared/idle/fleet.ts';
import type { IdleStopRequest } from '#shared/idle/gather.ts';
import {
  cappedNote,
  decideIdleStops,
  idleRuleSentence,
  loggedVerdictsAt,
  stopIntentFor,
  verdictTable,
} from '#shared/idle/plan.ts';
import { stageIdlePolicy } from '#shared/idle/rule.ts';
import {
  renderVerdictTable,
  stopsOf,
  type VerdictTableData,
  verdictTableData,
  withRefusals,
} from '#shared/idle/verdictTable.ts';
import { LOCAL_ACCOUNT } from '#shared/runtime/functionSpec.ts';
import type { CostAnomalyGathered } from './gather.ts';
import { cents } from './pageClaim.ts';
import type { CostAnomalyConfig, CostAnomalySettings } from './settings.ts';
import { type CostAnomalyFacts, dollars, percent, type RootCause } from './signal.ts';

/**
 * Whether an anomaly may stop this account's opted-in idle instances (`costAnomaly.stopIdle`), decided
 * from the event and the stage alone. Which instances, and how many, is the idle stopper's decision
 * (its verdicts, its hourly budget, its executor): this only says whether to ask it, and why not.
 */

/**
 * Cost Explorer's service name for EC2 instances ("Amazon Elastic Compute Cloud - Compute"). "EC2 -
 * Other" is EBS, NAT gateways and data transfer, which stopping an instance does not reduce.
 */
const EC2_COMPUTE = /^Amazon Elastic Compute Cloud\b/;

export type StopScope =
  | { decision: 'off' }
  | { decision: 'below-threshold' | 'out-of-scope' | 'in-scope'; why: string };

const accountOf = (c: RootCause, facts: CostAnomalyFacts): string => c.linkedAccount ?? facts.accountId;
const unique = (values: string[]) => [...new Set(values)].join(', ');

/** Pure: whether the stage's stop threshold is reached, and whether the anomaly is EC2 here. */
export function stopScope(facts: CostAnomalyFacts, settings: CostAnomalySettings): StopScope {
  const s = settings.stopIdle;
  if (!s.enabled) return { decision: 'off' };
  if (facts.totalImpact < s.minImpactDollars) {
    return {
      decision: 'below-threshold',
      why: `the impact ${dollars(facts.totalImpact)} is below the stop threshold of ${dollars(s.minImpactDollars)}`,
    };
  }
  // No expected spend: the increase is unbounded, so any percentage threshold is reached.
  if (
    s.minImpactPercent !== undefined &&
    facts.impactPercent !== undefined &&
    facts.impactPercent < s.minImpactPercent
  ) {
    return {
      decision: 'below-threshold',
      why: `the impact of ${percent(facts.impactPercent)} is below the stop threshold of ${s.minImpactPercent} %`,
    };
  }
  const here = facts.runsIn;
  // A local invoke does not know the account its credentials act in: it is never told to stop anything.
  if (!here || here.account === LOCAL_ACCOUNT) {
    return { decision: 'out-of-scope', why: 'this invocation does not know the account it runs in' };
  }
  if (facts.rootCauses.length === 0) {
    // Nothing says which service: the anomaly's own account decides, its instances are judged idle or not.
    return facts.accountId === here.account
      ? { decision: 'in-scope', why: `anomaly of this account (${here.account}), no root cause reported` }
      : {
          decision: 'out-of-scope',
          why: `the anomaly is account ${facts.accountId}'s; this stack runs in ${here.account} and cannot act there`,
        };
  }
  const mine = facts.rootCauses.filter((c) => accountOf(c, facts) === here.account);
  if (mine.length === 0) {
    const accounts = unique(facts.rootCauses.map((c) => accountOf(c, facts)));
    return {
      decision: 'out-of-scope',
      why: `its root causes are in account ${accounts}; this stack runs in ${here.account} and cannot act there`,
    };
  }
  const ec2 = mine.filter((c) => c.service !== undefined && EC2_COMPUTE.test(c.service));
  if (ec2.length === 0) {
    const services = unique(mine.map((c) => c.service ?? 'unknown service'));
    return {
      decision: 'out-of-scope',
      why: `no root cause in this account is EC2 compute (${services}): stopping instances would not reduce it`,
    };
  }
  const inRegion = ec2.filter((c) => c.region === undefined || c.region === here.region);
  if (inRegion.length === 0) {
    return {
      decision: 'out-of-scope',
      why: `its EC2 root causes are in ${unique(ec2.map((c) => c.region ?? ''))}; this stack runs in ${here.region} and acts only there`,
    };
  }
  return {
    decision: 'in-scope',
    why: `EC2 compute in this account (${here.account}) and region (${here.region}) is a root cause`,
  };
}

/**
 * The idle stopper's rule for an anomaly's stops: the stage's idle policy and hourly limit (one budget
 * for the account, shared with the idle scan), opted-in instances only whatever `idleStop.scope` says,
 * keyed by the anomaly at this impact, so every delivery of one update is one decision.
 */
export function anomalyStopRequest(facts: CostAnomalyFacts, cfg: CostAnomalyConfig): IdleStopRequest {
  const s = cfg.idleStop;
  return {
    run: `cost-anomaly#${facts.anomalyId}#${cents(facts.totalImpact)}`,
    scope: 'opt-in',
    policy: stageIdlePolicy(s),
    maxStopsPerHour: s.maxStopsPerHour,
  };
}

/** What became of the stop option for one anomaly: the manual invoke's result and the metrics say it. */
export interface AnomalyStopFindings {
  decision: StopScope['decision'] | 'fleet-unreadable' | 'nothing-idle' | 'stop';
  why?: string;
  /** The instances to stop (or that would be, in dry-run), quietest first, with their idle evidence. */
  stops: Pick<IdleVerdict, 'instanceId' | 'instanceType' | 'reason'>[];
  counts?: { considered: number; stop: number; capped: number; spared: number; excluded: number };
  /** Every verdict: logged by `measure`, left out of the stored result. */
  verdicts?: IdleVerdict[];
}

export interface AnomalyStops {
  /** The idle stopper's intent, when there is something to stop. */
  intent?: StopInstancesIntent;
  notes: PlanNote[];
  /** The page's lines about the stops, empty when the option is off. */
  details: string[];
  /** What those lines are rendered from when there are stops: the page executor renders them again. */
  section?: AnomalyStopSection;
  findings: AnomalyStopFindings;
}

/**
 * Pure: for an anomaly that pages, the stops the idle stopper decides (its verdicts, within the hour's
 * budget), with the page lines that say which instances and why, or why none.
 */
export function planAnomalyStops(input: {
  facts: CostAnomalyFacts;
  gathered: CostAnomalyGathered;
  config: CostAnomalyConfig;
  correlationId: string;
}): AnomalyStops {
  const { facts, gathered, config: cfg } = input;
  const scope = stopScope(facts, cfg.costAnomaly);
  if (scope.decision === 'off') return { notes: [], details: [], findings: { decision: 'off', stops: [] } };
  const header = `Idle instances (costAnomaly.stopIdle: from ${dollars(cfg.costAnomaly.stopIdle.minImpactDollars)}, EC2 in this account and region)`;
  const notStopped = (decision: AnomalyStopFindings['decision'], why: string): AnomalyStops => ({
    notes: [
      {
        decision: 'skipped',
        reason: decision === 'out-of-scope' ? 'out-of-scope' : 'nothing-to-do',
        detail: `no instance stopped for anomaly ${facts.anomalyId}: ${why}`,
        withheld: 'ec2.stop-instances',
      },
    ],
    details: [header, `  None stopped: ${why}.`],
    findings: { decision, why, stops: [] },
  });
  if (scope.decision !== 'in-scope') return notStopped(scope.decision, scope.why);
  // Stops that wait for approval spend the hour's budget when approved, not now.
  const approval = asksApproval(cfg.idleStop, cfg.dryRun);
  const fleet =
    approval && gathered.fleet && !('unavailable' in gathered.fleet)
      ? budgetAtApproval(gathered.fleet)
      : gathered.fleet;
  if (fleet === undefined) return notStopped('fleet-unreadable', 'the fleet was not read');
  if ('unavailable' in fleet) {
    return notStopped('fleet-unreadable', `the fleet could not be read (${fleet.unavailable})`);
  }
  const request = anomalyStopRequest(facts, cfg);
  // In scope means runsIn is known: priced for the region the stack (and the instances) are in.
  const { verdicts, summary, stops } = decideIdleStops(fleet, request, facts.runsIn?.region ?? 'us-east-1');
  const counts = {
    considered: summary.considered,
    stop: summary.stopped,
    capped: summary.capped,
    spared: summary.spared,
    excluded: summary.excluded,
  };
  const found = {
    why: scope.why,
    stops: stops.map(({ instanceId, instanceType, reason }) => ({ instanceId, instanceType, reason })),
    counts,
    verdicts,
  };
  const notes =
    summary.capped > 0
      ? [cappedNote(summary.capped, request.maxStopsPerHour, fleet.budget.usedInLastHour)]
      : [];
  const rule = `  ${scope.why}. Idle by the stage's rule, opted-in instances (ops:auto-stop=true) only: ${idleRuleSentence(request.policy)}.`;
  const table = verdictTable(verdicts, loggedVerdictsAt(cfg.functionName, input.correlationId));
  if (stops.length === 0) {
    const none = notStopped(
      'nothing-idle',
      summary.capped > 0
        ? `the hour's ${request.maxStopsPerHour} stop(s) for the account are spent (${fleet.budget.usedInLastHour} already made); ${summary.capped} idle instance(s) capped`
        : `no opted-in idle instance to stop among ${summary.considered} running`,
    );
    return {
      ...none,
      notes: [...notes, ...none.notes],
      details: [...none.details, rule, ...table],
      findings: { ...found, decision: 'nothing-idle' },
    };
  }
  const intent = stopIntentFor(stops, request, {
    run: request.run,
    correlationId: input.correlationId,
    why: `cost anomaly ${facts.anomalyId} (+${dollars(facts.totalImpact)})`,
  });
  const verb = cfg.dryRun
    ? 'would stop (dry-run: none is stopped)'
    : approval
      ? "needs a person's approval to stop"
      : 'stops';
  const section: AnomalyStopSection = {
    header,
    verb,
    within: `${request.maxStopsPerHour} stop(s) per rolling hour for the account (${fleet.budget.usedInLastHour} already made)`,
    rule,
    table: verdictTableData(verdicts),
    whereAll: loggedVerdictsAt(cfg.functionName, input.correlationId),
  };
  return {
    intent,
    notes,
    details: anomalyStopLines(section),
    section,
    findings: { ...found, decision: 'stop' },
  };
}

/** What the page's idle-stop lines are rendered from, again once the stops ran (bounded: verdictTable.ts). */
export interface AnomalyStopSection {
  header: string;
  /** What the idle stopper does with its stops: 'stops', 'would stop (...)', 'needs ... approval to stop'. */
  verb: string;
  /** The hourly limit and the stops already made. */
  within: string;
  rule: string;
  table: VerdictTableData;
  whereAll: string;
}

/** Pure: the page's idle-stop lines; a stop StopInstances refused for stop protection is excluded. */
export function anomalyStopLines(s: AnomalyStopSection): string[] {
  const refused = s.table.refusedCount;
  const more = refused > 0 ? ` (${refused} more refused by stop protection)` : '';
  return [
    s.header,
    `  The idle stopper ${s.verb} ${stopsOf(s.table).count} instance(s)${more}, quietest first, within ${s.within}.`,
    s.rule,
    ...renderVerdictTable(s.table, s.whereAll),
  ];
}

/**
 * Pure: an anomaly's page once its stops ran. Its idle-stop lines close its body; when StopInstances
 * refused some for their stop protection (`refused`), they are rendered again with those excluded.
 */
export function detailsAfterStops(
  details: readonly string[],
  section: AnomalyStopSection,
  refused: ReadonlySet<string>,
): string[] {
  const table = withRefusals(section.table, refused);
  const planned = anomalyStopLines(section);
  const start = details.length - planned.length;
  // Only the lines the plan wrote are replaced; anything else is left as planned.
  if (table === section.table || start < 0 || planned.some((l, k) => details[start + k] !== l)) {
    return [...details];
  }
  return [...details.slice(0, start), ...anomalyStopLines({ ...section, table })];
}
