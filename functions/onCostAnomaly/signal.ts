import type { Signal } from '#shared/domain/signal.ts';
import type { InvocationSite, Observation } from '#shared/runtime/functionSpec.ts';
import type { CostAnomalyEvent } from './schema.ts';

export interface RootCause {
  service?: string;
  region?: string;
  linkedAccount?: string;
  linkedAccountName?: string;
  usageType?: string;
  contribution?: number;
}

/** What the plan needs to know about the anomaly, taken from the event alone. */
export interface CostAnomalyFacts {
  anomalyId: string;
  /** The account the anomaly was reported for (the event's `detail.accountId`). */
  accountId: string;
  accountName?: string;
  totalImpact: number;
  /** Undefined when nothing was expected: any spend is then an unbounded increase. */
  impactPercent?: number;
  expectedSpend: number;
  actualSpend: number;
  startDate: string;
  lastUpdated: string;
  monitorName: string;
  monitorArn: string;
  rootCauses: RootCause[];
  /** Linked accounts the root causes name, else the anomaly's own account: whose budgets matter. */
  affectedAccounts: string[];
  /** Where this function runs (its own ARN): the only account and region it could stop instances in. */
  runsIn?: { account: string; region: string };
}

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
/** `$1,001.00`: the amount as people read a bill. */
export const dollars = (n: number): string => usd.format(n);
export const percent = (n: number | undefined): string =>
  n === undefined ? 'n/a (no expected spend)' : `${Math.round(n * 100) / 100} %`;

/** `2021-05-25`: the day of an AWS timestamp, as Cost Explorer's window takes it. */
const day = (value: string): string => {
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? value.slice(0, 10) : new Date(ms).toISOString().slice(0, 10);
};

/** Cost Explorer on the same console as AWS's anomaly link, daily by service, over the anomaly's days. */
export function costExplorerLink(anomalyDetailsLink: string, start: string, end: string): string {
  const origin = new URL(anomalyDetailsLink).origin;
  const query = new URLSearchParams({
    startDate: day(start),
    endDate: day(end),
    granularity: 'Daily',
    groupBy: '["Service"]',
  });
  return `${origin}/cost-management/home#/cost-explorer?${query.toString()}`;
}

export function costAnomalyFacts(event: CostAnomalyEvent, site?: InvocationSite): CostAnomalyFacts {
  const d = event.detail;
  const rootCauses: RootCause[] = d.rootCauses.map((c) => ({
    ...(c.service ? { service: c.service } : {}),
    ...(c.region ? { region: c.region } : {}),
    ...(c.linkedAccount ? { linkedAccount: c.linkedAccount } : {}),
    ...(c.linkedAccountName ? { linkedAccountName: c.linkedAccountName } : {}),
    ...(c.usageType ? { usageType: c.usageType } : {}),
    ...(c.impact ? { contribution: c.impact.contribution } : {}),
  }));
  const linked = rootCauses.flatMap((c) => (c.linkedAccount ? [c.linkedAccount] : []));
  const { impact } = d;
  const impactPercent =
    impact.totalImpactPercentage ??
    (impact.totalExpectedSpend > 0 ? (impact.totalImpact / impact.totalExpectedSpend) * 100 : undefined);
  return {
    anomalyId: d.anomalyId,
    accountId: d.accountId,
    ...(d.accountName ? { accountName: d.accountName } : {}),
    totalImpact: impact.totalImpact,
    ...(impactPercent !== undefined ? { impactPercent } : {}),
    expectedSpend: impact.totalExpectedSpend,
    actualSpend: impact.totalActualSpend,
    startDate: d.anomalyStartDate,
    lastUpdated: d.anomalyEndDate,
    monitorName: d.monitorName,
    monitorArn: d.monitorArn,
    rootCauses,
    affectedAccounts: linked.length > 0 ? [...new Set(linked)] : [d.accountId],
    ...(site ? { runsIn: { account: site.account, region: site.region } } : {}),
  };
}

/** One line per root cause: where the money went, and how much of it. */
export function describeRootCause(c: RootCause): string {
  const account = c.linkedAccount
    ? `account ${c.linkedAccount}${c.linkedAccountName ? ` (${c.linkedAccountName})` : ''}`
    : undefined;
  const where = [
    c.service ?? 'unknown service',
    c.region ? `in ${c.region}` : undefined,
    account,
    c.usageType ? `usage type ${c.usageType}` : undefined,
  ].filter((p): p is string => p !== undefined);
  const contribution = c.contribution !== undefined ? `: ${dollars(c.contribution)}` : '';
  return `${where.join(', ')}${contribution}`;
}

/** Pure: what an anomaly event says, computed once. */
export function observeCostAnomaly(
  event: CostAnomalyEvent,
  env?: { site: InvocationSite },
): Observation<CostAnomalyFacts> {
  const facts = costAnomalyFacts(event, env?.site);
  const d = event.detail;
  const top = facts.rootCauses[0]?.service ?? d.dimensionValue ?? facts.monitorName;
  const signal: Signal = {
    kind: 'cost.anomaly',
    severity: 'warning',
    title: `${top}: +${dollars(facts.totalImpact)} (${percent(facts.impactPercent)}) above expected`,
    summary:
      `Cost Anomaly Detection (monitor ${facts.monitorName}) reports spend of ${dollars(facts.actualSpend)} ` +
      `against ${dollars(facts.expectedSpend)} expected, from ${facts.startDate} to ${facts.lastUpdated}.`,
    account: event.account,
    region: event.region,
    resources: [
      { type: 'cost anomaly', id: facts.anomalyId },
      { type: 'anomaly monitor', id: facts.monitorName, arn: facts.monitorArn },
      ...facts.affectedAccounts.map((a) => ({ type: 'aws account', id: a })),
    ],
    correlationId: event.id,
    // One incident per anomaly: its updates share it.
    incidentKey: `cost-anomaly:${event.account}:${facts.anomalyId}`,
    occurredAt: facts.lastUpdated,
    evidence: {
      totalImpact: dollars(facts.totalImpact),
      impactPercentage: percent(facts.impactPercent),
      expectedSpend: dollars(facts.expectedSpend),
      actualSpend: dollars(facts.actualSpend),
      ...(d.impact.maxImpact !== undefined ? { maxDailyImpact: dollars(d.impact.maxImpact) } : {}),
      anomalyStart: facts.startDate,
      lastUpdated: facts.lastUpdated,
      monitor: `${facts.monitorName} (${facts.monitorArn})`,
      account: `${facts.accountId}${facts.accountName ? ` (${facts.accountName})` : ''}`,
      ...(d.anomalyScore ? { anomalyScore: d.anomalyScore.currentScore } : {}),
    },
    links: [
      { label: 'Anomaly (AWS)', url: d.anomalyDetailsLink },
      {
        label: 'Cost Explorer',
        url: costExplorerLink(d.anomalyDetailsLink, d.anomalyStartDate, d.anomalyEndDate),
      },
    ],
  };
  return { facts, signal };
}
