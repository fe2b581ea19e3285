import type { Severity } from '#shared/domain/severity.ts';
import type { PageContent, PageIntent, PageNotice } from './intent.ts';
import type { Outcome } from './outcome.ts';
import type { Signal } from './signal.ts';
import { tokenFromKey } from './tokens.ts';

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

/**
 * SNS takes at most 262,144 bytes (UTF-8) per message, subject and attributes included
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). A body stays well under it, so the
 * subject and attributes always fit and a publish is never refused for size.
 */
export const BODY_LIMIT = 200 * 1024;

/**
 * One id per notice of one incident: the same for every delivery of it (SNS standard topics deliver at
 * least once, and a publish whose response was lost is retried), different for the next incident of
 * the same alarm. `openedBy` is the delivery that opened the incident.
 */
export function pageIdOf(incidentKey: string, notice: PageNotice, openedBy: string): string {
  return tokenFromKey(`page|${incidentKey}|${notice}|${openedBy}`);
}

export interface PageIntentOptions {
  notice: PageNotice;
  severity: Severity;
  reason: string;
  details?: string[];
  /** Said when the decision took no other action; by default, that this page is the action. */
  nothingDone?: string;
  /** Where the page says something other than the signal's own words (an idle scan's summary). */
  say?: Partial<Pick<PageContent, 'title' | 'summary' | 'resources' | 'evidence'>>;
}

/** The one way a plan asks for a page: the signal's words, and what the plan decides to say. */
export function pageIntent(signal: Signal, o: PageIntentOptions): PageIntent {
  return {
    kind: 'sns.page',
    notice: o.notice,
    severity: o.severity,
    incidentKey: signal.incidentKey,
    correlationId: signal.correlationId,
    occurredAt: signal.occurredAt,
    content: {
      source: signal.kind,
      title: o.say?.title ?? signal.title,
      summary: o.say?.summary ?? signal.summary,
      account: signal.account,
      region: signal.region,
      resources: o.say?.resources ?? signal.resources,
      evidence: o.say?.evidence ?? signal.evidence,
      links: signal.links,
      reason: o.reason,
      ...(o.details ? { details: o.details } : {}),
      nothingDone: o.nothingDone ?? 'Nothing else: this page is the action.',
    },
  };
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
  /** Stable per notice of an incident, so subscribers can drop a duplicate delivery. */
  pageId: string;
  /** A resolve notice names the page id of the page it resolves (a PagerDuty resolve needs it). */
  resolvesPageId?: string;
  /** This page opens a new incident after the previous one's resolve notice, inside the window. */
  reopened?: boolean;
  /** A resolve notice carries the severity its page had, so severity-filtered subscribers get both. */
  incidentSeverity?: Severity;
  /** Why the kill switch made this run dry: said in the page, so nobody mistakes it for the stage's mode. */
  forcedDryRun?: string;
}

export function describeOutcome(o: Outcome): string {
  const label = o.status === 'done' ? 'DONE' : o.status === 'skipped' ? `SKIPPED (${o.reason})` : 'FAILED';
  const err = o.error ? ` [${o.error.name}: ${o.error.message}]` : '';
  return `- ${label} ${o.kind}: ${o.detail}${err}`;
}

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Cuts a text to at most `limit` UTF-8 bytes, on a character boundary. */
function cutToBytes(text: string, limit: number): string {
  if (bytes(text) <= limit) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = bytes(ch);
    if (used + size > limit) break;
    out += ch;
    used += size;
  }
  return out;
}

/** A body in parts: only `evidence` and `details` may be shortened, the rest is what a person needs. */
interface BodyParts {
  head: string[];
  evidence: string[];
  details: string[];
  tail: string[];
  ids: string[];
}

const joinLines = (lines: string[]) => lines.join('\n');

function assemble(p: BodyParts, note?: string): string {
  const evidence = p.evidence.length > 0 ? ['', 'Evidence', ...p.evidence] : [];
  const details = p.details.length > 0 ? ['', ...p.details] : [];
  const shortened = note ? ['', note] : [];
  return joinLines([...p.head, ...evidence, ...details, ...p.tail, ...shortened, '', ...p.ids]);
}

/** Keeps whole lines, in order, while they fit in `budget` bytes (each line costs its newline too). */
function keepWithin(lines: string[], budget: number): string[] {
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = bytes(line) + 1;
    if (used + cost > budget) break;
    kept.push(line);
    used += cost;
  }
  return kept;
}

/**
 * The body within BODY_LIMIT: evidence and details lose their last lines first, and the page says it
 * was shortened; the head (what, where, why, what was done, links) and the ids stay whole. Should the
 * head alone be too large, it is cut too, never the ids.
 */
function boundedBody(p: BodyParts): string {
  const full = assemble(p);
  if (bytes(full) <= BODY_LIMIT) return full;
  const noteFor = (evidence: number, details: number) =>
    `This page was shortened to fit the SNS message size: ${p.evidence.length - evidence} of ${p.evidence.length} evidence line(s) and ${p.details.length - details} of ${p.details.length} detail line(s) left out. The function's logs under the correlation id below have the rest.`;
  // The longest note, so the budget holds whatever is kept.
  const worstNote = noteFor(0, 0);
  const fixed = bytes(assemble({ ...p, evidence: [], details: [] }, worstNote));
  // The headers "Evidence" and the blank lines around the trimmed parts.
  const budget = BODY_LIMIT - fixed - 16;
  const evidence = keepWithin(p.evidence, budget);
  const used = evidence.reduce((n, l) => n + bytes(l) + 1, 0);
  const details = keepWithin(p.details, budget - used);
  const body = assemble({ ...p, evidence, details }, noteFor(evidence.length, details.length));
  if (bytes(body) <= BODY_LIMIT) return body;
  // Only an enormous head gets here: keep its start, the note and the ids.
  const end = joinLines(['', '', noteFor(0, 0), '', ...p.ids]);
  const headOnly = joinLines([...p.head, ...p.tail]);
  return `${cutToBytes(headOnly, BODY_LIMIT - bytes(end) - 4)} ...${end}`;
}

/** The page a person on call reads: what, where, why, what was done, links, ids. */
export function renderPage(intent: PageIntent, ctx: PageContext): RenderedPage {
  const s = intent.content;
  const resolve = intent.notice === 'resolve';
  const tag = resolve ? 'RESOLVED' : intent.severity.toUpperCase();
  const subject = toSubject(`[${tag}] ${s.source}: ${s.title}`);

  const head: string[] = [];
  head.push(resolve ? `${s.title} (resolved)` : s.title, '');
  head.push('What happened', `  ${s.summary}`, '');
  if (ctx.reopened) head.push('  It fired again after its resolve notice: a new incident.', '');
  head.push('Where', `  Account ${s.account}, region ${s.region}`);
  for (const r of s.resources)
    head.push(`  ${r.type} ${r.id}${r.arn && r.arn !== r.id ? ` (${r.arn})` : ''}`);
  head.push('', 'Why', `  ${s.reason}`);
  const evidence = Object.entries(s.evidence).map(([k, v]) => `  ${k}: ${v}`);
  const details = s.details ?? [];
  const tail: string[] = [];
  if (!resolve) {
    tail.push(
      '',
      ctx.dryRun ? 'What the automation would do (dry-run: nothing was changed)' : 'What the automation did',
    );
    if (ctx.forcedDryRun) tail.push(`  ${ctx.forcedDryRun}.`);
    const actions = ctx.outcomes.filter((o) => o.kind !== 'sns.page');
    if (actions.length === 0) tail.push(`  ${s.nothingDone}`);
    for (const o of actions) tail.push(`  ${describeOutcome(o)}`);
  }
  if (ctx.repeats > 0) {
    tail.push(
      '',
      resolve
        ? `Repeats during the incident: ${ctx.repeats} further deliveries were not paged.`
        : `Repeats: ${ctx.repeats} deliveries of this incident were not paged since the last page.`,
    );
  }
  if (s.links.length > 0) {
    tail.push('', 'Links');
    for (const l of s.links) tail.push(`  ${l.label}: ${l.url}`);
  }
  const ids = [
    `Page id: ${ctx.pageId}`,
    ...(ctx.resolvesPageId ? [`Resolves page id: ${ctx.resolvesPageId}`] : []),
    `Correlation id: ${intent.correlationId}`,
    `Incident key: ${intent.incidentKey}`,
    `Stage: ${ctx.stage}${ctx.forcedDryRun ? ' (forced dry-run)' : ctx.dryRun ? ' (dry-run)' : ''} | occurred ${intent.occurredAt}`,
  ];

  return {
    subject,
    body: boundedBody({ head, evidence, details, tail, ids }),
    attributes: {
      severity: resolve ? (ctx.incidentSeverity ?? intent.severity) : intent.severity,
      kind: s.source,
      account: s.account,
      region: s.region,
      notice: intent.notice,
      pageId: ctx.pageId,
      ...(ctx.resolvesPageId ? { resolvesPageId: ctx.resolvesPageId } : {}),
    },
  };
}
