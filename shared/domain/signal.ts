import type { Severity } from '#shared/domain/severity.ts';

/** A resource the signal is about, as an on-call person would name it. */
export interface ResourceRef {
  type: string;
  id: string;
  arn?: string;
}

export interface EvidenceLink {
  label: string;
  url: string;
}

/**
 * One normalized shape for every event source. Built by a pure function from the parsed event;
 * everything downstream (plan, page, action log) reads this, not the raw event.
 */
export interface Signal {
  /** `<source>.<what>`, e.g. `alarm.state-change`; low cardinality, used as a metric dimension. */
  kind: string;
  /** The severity the source implies; planning may raise or lower it by configuration. */
  severity: Severity;
  /** One line for a pager subject: `web-cpu-high is ALARM`. */
  title: string;
  /** What happened, in a sentence or two, from the source's own words. */
  summary: string;
  account: string;
  region: string;
  resources: ResourceRef[];
  /** The EventBridge event id: the thread through logs, the action log, pages and runbook tokens. */
  correlationId: string;
  /** Identifies the incident across deliveries and repeats: paging suppression keys on it. */
  incidentKey: string;
  occurredAt: string;
  /** Facts behind the decision (datapoints, thresholds, reasons), shown in pages and logs. */
  evidence: Record<string, string | number | boolean>;
  links: EvidenceLink[];
}
