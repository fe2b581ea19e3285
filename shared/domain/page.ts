import type { Severity } from '#shared/config.ts';
import type { PageIntent } from './intent.ts';
import type { Outcome } from './outcome.ts';

/** SNS subjects: at most 100 characters, printable ASCII, no line breaks. */
export const SUBJECT_LIMIT = 100;

export function toSubject(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return ascii.length <= SUBJECT_LIMIT ? ascii : `${ascii.slice(0, SUBJECT_LIMIT - 3)}...`;
}

export interface RenderedPage {
  subject: string;
  body: string;
  attributes: Record<string, string>;
}

export interface PageContext {
  /** What the other intents of this decision came to, in plan order. */
  outcomes: Outcome[];
  /** Deliveries swallowed since the last page (incident) or during the incident (resolve). */
  repeats: number;
  stage: string;
  dryRun: boolean;
  /** This page opens a new incident after the previous one's resolve notice, inside the window. */
  reopened?: boolean;
  /** A resolve notice carries the severity its page had, so severity-filtered subscribers get both. */
  incidentSeverity?: Severity;
}

function describeOutcome(o: Outcome): string {
  const label = o.status === 'done' ? 'DONE' : o.status === 'skipped' ? `SKIPPED (${o.reason})` : 'FAILED';
  const err = o.error ? ` [${o.error.name}: ${o.error.message}]` : '';
  return `- ${label} ${o.kind}: ${o.detail}${err}`;
}

/** The page a person on call reads: what, where, why, what was done, links, correlation id. */
export function renderPage(intent: PageIntent, ctx: PageContext): RenderedPage {
  const s = intent.signal;
  const resolve = intent.notice === 'resolve';
  const tag = resolve ? 'RESOLVED' : intent.severity.toUpperCase();
  const subject = toSubject(`[${tag}] ${s.kind}: ${s.title}`);

  const lines: string[] = [];
  lines.push(resolve ? `${s.title} (resolved)` : s.title, '');
  lines.push('What happened', `  ${s.summary}`, '');
  if (ctx.reopened) lines.push('  It fired again after its resolve notice: a new incident.', '');
  lines.push('Where', `  Account ${s.account}, region ${s.region}`);
  for (const r of s.resources)
    lines.push(`  ${r.type} ${r.id}${r.arn && r.arn !== r.id ? ` (${r.arn})` : ''}`);
  lines.push('', 'Why', `  ${intent.reason}`);
  const evidence = Object.entries(s.evidence);
  if (evidence.length > 0) {
    lines.push('', 'Evidence');
    for (const [k, v] of evidence) lines.push(`  ${k}: ${v}`);
  }
  if (intent.details && intent.details.length > 0) lines.push('', ...intent.details);
  if (!resolve) {
    lines.push(
      '',
      ctx.dryRun ? 'What the automation would do (dry-run: nothing was changed)' : 'What the automation did',
    );
    const actions = ctx.outcomes.filter((o) => o.kind !== 'sns.page');
    if (actions.length === 0)
      lines.push('  Nothing: no runbook is configured for this signal; this page is the action.');
    for (const o of actions) lines.push(`  ${describeOutcome(o)}`);
  }
  if (ctx.repeats > 0) {
    lines.push(
      '',
      resolve
        ? `Repeats during the incident: ${ctx.repeats} further deliveries were not paged.`
        : `Repeats: ${ctx.repeats} deliveries of this incident were not paged since the last page.`,
    );
  }
  if (s.links.length > 0) {
    lines.push('', 'Links');
    for (const l of s.links) lines.push(`  ${l.label}: ${l.url}`);
  }
  lines.push('', `Correlation id: ${s.correlationId}`, `Incident key: ${s.incidentKey}`);
  lines.push(`Stage: ${ctx.stage}${ctx.dryRun ? ' (dry-run)' : ''} | occurred ${s.occurredAt}`);

  return {
    subject,
    body: lines.join('\n'),
    attributes: {
      severity: resolve ? (ctx.incidentSeverity ?? intent.severity) : intent.severity,
      kind: s.kind,
      account: s.account,
      region: s.region,
      notice: intent.notice,
    },
  };
}
