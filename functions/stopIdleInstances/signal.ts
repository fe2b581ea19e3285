import { consoleLink } from '#shared/domain/partition.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { EventRejected, type InvocationSite, type Observation } from '#shared/runtime/functionSpec.ts';
import { type IdleScanEvent, isScheduled } from './schema.ts';
import type { IdleScanConfig } from './settings.ts';
import { type IdleRun, resolveIdleRun } from './settings.ts';

/**
 * Pure: the run an event asks for (the stage settings, with a manual payload's overrides applied within
 * their limits) and its signal. A payload beyond the limits is refused like an invalid event.
 */
export function observeIdleScan(
  event: IdleScanEvent,
  env: { site: InvocationSite; config: IdleScanConfig },
): Observation<IdleRun> {
  const resolved = resolveIdleRun(event, env.config);
  if (!resolved.ok) throw new EventRejected(resolved.issues);
  return { facts: resolved.run, signal: idleScanSignal(event, resolved.run, env.site) };
}

/** Pure: the run's signal. The correlation id is the event id, or the Lambda request id of a manual invoke. */
export function idleScanSignal(event: IdleScanEvent, run: IdleRun, invocation: InvocationSite): Signal {
  const scheduled = isScheduled(event);
  const { target } = run;
  // A worker's run is its target's: the scheduled run, then the account and region it scans.
  const correlationId = target
    ? `${target.run}#${target.account}#${target.region}`
    : scheduled
      ? event.id
      : invocation.requestId;
  const region = target?.region ?? (scheduled ? event.region : invocation.region);
  return {
    kind: 'ec2.idle-scan',
    severity: 'info',
    title: 'idle instance scan',
    summary: target
      ? `Scheduled scan for idle EC2 instances of account ${target.account} in ${target.region}.`
      : scheduled
        ? 'Scheduled scan for idle EC2 instances.'
        : 'Manual scan for idle EC2 instances.',
    account: target?.account ?? (scheduled ? event.account : invocation.account),
    region,
    resources: [],
    correlationId,
    // Every run is its own incident: one summary page per run that stops something. An organization's
    // region run pages its account's summary instead, whose incident is the run and account (scanSummary.ts).
    incidentKey: `idle-scan#${correlationId}`,
    occurredAt: target?.scheduledAt ?? (scheduled ? event.time : new Date().toISOString()),
    evidence: {
      scope: run.scope,
      lookbackHours: run.policy.lookbackHours,
      cpuThresholdPercent: run.policy.cpuThresholdPercent,
      networkThresholdBytesPerHour: run.policy.networkThresholdBytesPerHour,
      minCoverage: run.policy.minCoverage,
      maxStopsPerHour: run.maxStopsPerHour,
    },
    links: consoleLink(
      'Instances stopped by ops-autopilot',
      region,
      'ec2',
      '#Instances:tag:ops:stopped-by=ops-autopilot',
    ),
  };
}
