import type { Signal } from '#shared/domain/signal.ts';
import type { Observation } from '#shared/runtime/functionSpec.ts';
import type { __EVENT__, HealthCategory } from './schema.ts';

/** What the plan needs to know about the event, taken from the event alone. */
export interface __TYPE__Facts {
  eventArn: string;
  category: HealthCategory;
  status: 'open' | 'closed' | 'upcoming';
}

/** The event in the AWS Health Dashboard (the commercial partition's; China and GovCloud have their own). */
export function dashboardLink(eventArn: string): string {
  return `https://health.aws.amazon.com/health/home#/account/dashboard/open-issues?eventID=${encodeURIComponent(eventArn)}`;
}

/** Pure: what the event says. One of another account or region never gets here (the spec's scope). */
export function observe__TYPE__(event: __EVENT__): Observation<__TYPE__Facts> {
  const d = event.detail;
  const description = d.eventDescription.find((e) => e.language === 'en_US') ?? d.eventDescription[0];
  const signal: Signal = {
    kind: 'health.event',
    severity: d.eventTypeCategory === 'issue' ? 'high' : 'warning',
    title: `AWS Health ${d.eventTypeCategory}: ${d.eventTypeCode} (${d.service}, ${d.eventRegion})`,
    summary: description?.latestDescription ?? `AWS Health reports ${d.eventTypeCode} for ${d.service}.`,
    account: event.account,
    region: event.region,
    resources: (d.affectedEntities ?? []).map((e) => ({ type: 'affected entity', id: e.entityValue })),
    correlationId: event.id,
    // One incident per AWS Health event: every update of it belongs to it.
    incidentKey: `health:${event.account}:${d.eventArn}`,
    occurredAt: event.time,
    evidence: {
      eventArn: d.eventArn,
      service: d.service,
      eventTypeCode: d.eventTypeCode,
      category: d.eventTypeCategory,
      status: d.statusCode,
      eventRegion: d.eventRegion,
      startTime: d.startTime,
      ...(d.endTime ? { endTime: d.endTime } : {}),
    },
    links: [{ label: 'AWS Health Dashboard', url: dashboardLink(d.eventArn) }],
  };
  return { facts: { eventArn: d.eventArn, category: d.eventTypeCategory, status: d.statusCode }, signal };
}
