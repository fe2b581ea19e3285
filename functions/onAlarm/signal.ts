import { alarmArn } from '#shared/domain/arn.ts';
import { consoleLink } from '#shared/domain/partition.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { textProblem } from '#shared/domain/text.ts';
import type { Observation } from '#shared/runtime/functionSpec.ts';
import type { AlarmEvent } from './schema.ts';

/** What the plan needs to know about the alarm, taken from the event alone. */
export interface AlarmFacts {
  alarmArn: string;
  alarmName: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  stateTimestamp: string;
  alarmType: 'metric' | 'metric-math' | 'anomaly-detection' | 'composite' | 'multi-time-series';
  namespace?: string;
  metricName?: string;
  /** Dimensions of the alarm's metric, or the attributes of a multi-time-series contributor. */
  dimensions: Record<string, string>;
  /** The time series of a multi-time-series alarm this event is about (contributor events only). */
  contributorId?: string;
  /** Tags carried by the event when alarm tag propagation is on; otherwise gathered. */
  eventTags?: Record<string, string>;
  mutedBy?: string;
  actionsSuppressedBy?: string;
}

function alarmType(event: AlarmEvent): AlarmFacts['alarmType'] {
  const { detail } = event;
  if (detail.alarmContributor || event['detail-type'] === 'CloudWatch Alarm Contributor State Change') {
    return 'multi-time-series';
  }
  if (detail.configuration?.alarmRule !== undefined) return 'composite';
  const metrics = detail.configuration?.metrics ?? [];
  const expressions = metrics.map((m) => m.expression).filter((e): e is string => e !== undefined);
  if (expressions.some((e) => /^\s*SELECT\b/i.test(e))) return 'multi-time-series';
  if (expressions.some((e) => /ANOMALY_DETECTION_BAND/i.test(e))) return 'anomaly-detection';
  if (expressions.length > 0) return 'metric-math';
  return 'metric';
}

export function alarmFacts(event: AlarmEvent): AlarmFacts {
  const { detail } = event;
  const stat = detail.configuration?.metrics?.find((m) => m.metricStat)?.metricStat;
  const dimensions = detail.alarmContributor?.attributes ?? stat?.metric.dimensions ?? {};
  return {
    // Built from the validated fields, not read from resources: the schema requires resources to hold it.
    alarmArn: alarmArn(event.region, event.account, detail.alarmName),
    alarmName: detail.alarmName,
    state: detail.state.value,
    stateTimestamp: detail.state.timestamp,
    alarmType: alarmType(event),
    ...(stat?.metric.namespace ? { namespace: stat.metric.namespace } : {}),
    ...(stat ? { metricName: stat.metric.name } : {}),
    dimensions,
    ...(detail.alarmContributor ? { contributorId: detail.alarmContributor.id } : {}),
    ...(detail.alarmTags ? { eventTags: detail.alarmTags } : {}),
    ...(detail.muteDetail ? { mutedBy: detail.muteDetail.mutedByArn } : {}),
    ...(detail.state.actionsSuppressedBy ? { actionsSuppressedBy: detail.state.actionsSuppressedBy } : {}),
  };
}

/** reasonData is a JSON string whose keys vary by alarm type and may be absent: never trust its shape. */
function reasonEvidence(reasonData: string | undefined): Record<string, string | number> {
  if (!reasonData) return {};
  try {
    const data: unknown = JSON.parse(reasonData);
    if (typeof data !== 'object' || data === null) return {};
    const d = data as Record<string, unknown>;
    const out: Record<string, string | number> = {};
    const list = (v: unknown) =>
      Array.isArray(v) ? v.filter((x) => typeof x === 'number').join(', ') : undefined;
    const recent = list(d.recentDatapoints);
    if (recent) out.recentDatapoints = recent;
    if (typeof d.threshold === 'number') out.threshold = d.threshold;
    const lower = list(d.recentLowerThresholds);
    const upper = list(d.recentUpperThresholds);
    if (lower) out.bandLower = lower;
    if (upper) out.bandUpper = upper;
    if (Array.isArray(d.triggeringAlarms)) {
      const arns = d.triggeringAlarms
        .map((t: unknown) => (typeof t === 'object' && t !== null ? (t as { arn?: unknown }).arn : undefined))
        // JSON escapes can smuggle what the schema refuses in raw text (e.g. a lone surrogate).
        .filter((a): a is string => typeof a === 'string' && !textProblem(a, { min: 1, max: 2048 }));
      if (arns.length > 0) out.triggeringAlarms = arns.map((a) => a.split(':alarm:').pop()).join(', ');
    }
    return out;
  } catch {
    return {};
  }
}

const resourceType = (dimension: string) =>
  dimension === 'InstanceId'
    ? 'ec2 instance'
    : dimension === 'DBInstanceIdentifier'
      ? 'rds instance'
      : dimension;

/** Pure: what an alarm event says, computed once: its facts, and the signal built from them. */
export function observeAlarm(event: AlarmEvent): Observation<AlarmFacts> {
  const facts = alarmFacts(event);
  return { facts, signal: alarmSignal(event, facts) };
}

/** Pure: one normalized signal from a parsed alarm event and its facts. */
export function alarmSignal(event: AlarmEvent, facts: AlarmFacts = alarmFacts(event)): Signal {
  const { detail } = event;
  const contributor = detail.alarmContributor;
  const contributorLabel = contributor
    ? ` [${Object.entries(contributor.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}]`
    : '';
  const stat = detail.configuration?.metrics?.find((m) => m.metricStat)?.metricStat;
  const evidence: Signal['evidence'] = {
    alarmType: facts.alarmType,
    ...(detail.previousState ? { previousState: detail.previousState.value } : {}),
    ...(stat
      ? {
          metric: `${stat.metric.namespace ?? '?'} ${stat.metric.name}${stat.stat ? ` (${stat.stat}` : ''}${stat.period ? ` over ${stat.period} s)` : stat.stat ? ')' : ''}`,
        }
      : {}),
    ...reasonEvidence(detail.state.reasonData),
    ...(facts.mutedBy ? { mutedBy: facts.mutedBy } : {}),
    ...(facts.actionsSuppressedBy ? { actionsSuppressedBy: facts.actionsSuppressedBy } : {}),
  };
  const region = event.region;
  return {
    kind: 'alarm.state-change',
    severity: facts.state === 'ALARM' ? 'high' : 'info',
    title: `${facts.alarmName}${contributorLabel} is ${facts.state}`,
    summary: detail.state.reason,
    account: event.account,
    region,
    resources: [
      { type: 'cloudwatch alarm', id: facts.alarmName, arn: facts.alarmArn },
      ...Object.entries(facts.dimensions).map(([name, value]) => ({ type: resourceType(name), id: value })),
    ],
    correlationId: event.id,
    // One incident per alarm; ALARM and OK share it. A multi-time-series alarm's contributors belong to
    // its incident too: AWS sends the alarm-level event and one per contributor, and that is one page.
    incidentKey: facts.alarmArn,
    occurredAt: detail.state.timestamp,
    evidence,
    links: consoleLink(
      'Alarm',
      region,
      'cloudwatch',
      `#alarmsV2:alarm/${encodeURIComponent(facts.alarmName)}`,
    ),
  };
}
