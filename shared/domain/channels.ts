import { APPROVAL_ID_PATTERN } from '#shared/approval/approvalId.ts';
import type { PageIntent } from './intent.ts';
import { BODY_LIMIT, describeOutcome, type PageContext, toSubject } from './page.ts';
import type { Severity } from './severity.ts';
import { parseAwsTimestamp } from './time.ts';

/**
 * One page, three formats, one topic each (docs/PAGING.md says why): the readable text of renderPage
 * for email and plain subscribers, Amazon Q Developer's custom notification for Slack and Microsoft
 * Teams, and an Events API v2 event for PagerDuty and Opsgenie. Every format carries the page id.
 */
export type PageChannel = 'text' | 'chat' | 'pager';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

function cutChars(text: string, limit: number): string {
  const chars = [...text];
  return chars.length <= limit ? text : `${chars.slice(0, limit - 3).join('')}...`;
}

/** What the automation did, one line per other intent (the page itself is not an action). */
function actionLines(intent: PageIntent, ctx: PageContext): string[] {
  const actions = ctx.outcomes.filter((o) => o.kind !== 'sns.page');
  if (actions.length === 0) return [intent.content.nothingDone];
  return actions.map((o) => describeOutcome(o).replace(/^- /, ''));
}

/** The id that ties every notice of one incident together: a resolve uses the id of the page it resolves. */
export const incidentPageId = (ctx: PageContext): string => ctx.resolvesPageId ?? ctx.pageId;

// Amazon Q Developer in chat applications: custom notifications
// (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html). Chat clients cut long
// messages, so the chat copy stays short: the full page goes to the text topic and the logs.
export const CHAT_TITLE_LIMIT = 250;
export const CHAT_DESCRIPTION_LIMIT = 3500;
export const CHAT_EVIDENCE_LINES = 10;

export interface ChatNotification {
  version: '1.0';
  source: 'custom';
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
  };
}

/**
 * The action of this page that waits for approval, when there is one: the chat custom action's button
 * reads its id from `metadata.additionalContext.approvalId` (docs/APPROVALS.md). Only an id in the
 * approval id format goes there, since the button pastes it into a command.
 */
function pendingApproval(ctx: PageContext): { approvalId: string; approvalExpiresAt?: string } | undefined {
  for (const o of ctx.outcomes) {
    const id = o.refs?.approvalId;
    if (o.reason !== 'approval-pending' || id === undefined || !APPROVAL_ID_PATTERN.test(id)) continue;
    const expiresAt = o.refs?.expiresAt;
    return { approvalId: id, ...(expiresAt ? { approvalExpiresAt: expiresAt } : {}) };
  }
  return undefined;
}

/** Markdown special characters in text taken from events, so a name cannot restyle or link the message. */
const md = (text: string) => text.replace(/([\\`*_[\]<>|])/g, '\\$1');

export function renderChat(intent: PageIntent, ctx: PageContext): ChatNotification {
  const s = intent.content;
  const resolve = intent.notice === 'resolve';
  const subject = toSubject(
    `[${resolve ? 'RESOLVED' : intent.severity.toUpperCase()}] ${s.source}: ${s.title}`,
  );
  const ids = [
    `Page id: \`${ctx.pageId}\`${ctx.resolvesPageId ? ` (resolves \`${ctx.resolvesPageId}\`)` : ''}`,
    `Correlation id: \`${intent.correlationId}\` | stage ${md(ctx.stage)}${ctx.dryRun ? ' (dry-run)' : ''}`,
  ];
  const lines = [
    md(s.summary),
    ...(ctx.reopened ? ['It fired again after its resolve notice: a new incident.'] : []),
    '',
    `*Where*: account ${s.account}, region ${s.region}`,
    ...s.resources.slice(0, 10).map((r) => `- ${md(r.type)} ${md(r.id)}`),
    '',
    `*Why*: ${md(s.reason)}`,
  ];
  if (!resolve) {
    lines.push('', ctx.dryRun ? '*Would do (dry-run, nothing changed)*' : '*Done*');
    lines.push(...actionLines(intent, ctx).map((l) => `- ${md(l)}`));
  }
  if (ctx.repeats > 0) lines.push('', `Repeats not paged: ${ctx.repeats}`);
  const evidence = Object.entries(s.evidence);
  if (evidence.length > 0) {
    lines.push('', '*Evidence*');
    lines.push(...evidence.slice(0, CHAT_EVIDENCE_LINES).map(([k, v]) => `- ${md(k)}: ${md(String(v))}`));
    if (evidence.length > CHAT_EVIDENCE_LINES)
      lines.push(`- ... ${evidence.length - CHAT_EVIDENCE_LINES} more in the email and the logs`);
  }
  const approval = pendingApproval(ctx);
  const tail = `\n\n${ids.join('\n')}`;
  const room = CHAT_DESCRIPTION_LIMIT - tail.length;
  let head = lines.join('\n');
  if (head.length > room) {
    const note = '\n... shortened for chat: the email and the logs have the whole page.';
    head = `${cutChars(head, room - note.length)}${note}`;
  }
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: cutChars(subject, CHAT_TITLE_LIMIT),
      description: `${head}${tail}`,
      nextSteps: s.links.slice(0, 5).map((l) => `[${md(l.label)}](${l.url})`),
      keywords: [
        resolve ? 'RESOLVED' : intent.severity,
        s.source,
        s.account,
        s.region,
        ...(approval ? ['approval-pending'] : []),
      ],
    },
    metadata: {
      // A resolve notice lands in its page's thread: the thread is the incident's page id.
      threadId: incidentPageId(ctx),
      summary: subject,
      eventType: s.source,
      relatedResources: s.resources.slice(0, 10).map((r) => r.arn ?? r.id),
      additionalContext: {
        pageId: ctx.pageId,
        ...(ctx.resolvesPageId ? { resolvesPageId: ctx.resolvesPageId } : {}),
        correlationId: intent.correlationId,
        incidentKey: intent.incidentKey,
        ...approval,
      },
    },
  };
}

// PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/): the
// dedup_key (at most 255 characters) makes every copy of one page one alert, and a resolve with the same
// key closes it. Opsgenie reads the same message through its Amazon SNS integration.
export const PAGER_SUMMARY_LIMIT = 1024;

export interface PagerEvent {
  event_action: 'trigger' | 'resolve';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: 'critical' | 'error' | 'warning' | 'info';
    timestamp?: string;
    component?: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: { href: string; text: string }[];
  client: string;
}

const PAGER_SEVERITY: Record<Severity, PagerEvent['payload']['severity']> = {
  critical: 'critical',
  high: 'error',
  warning: 'warning',
  info: 'info',
};

/** PagerDuty wants ISO 8601; an unreadable time is left out (PagerDuty then stamps the arrival). */
function timestampOf(occurredAt: string): { timestamp?: string } {
  const ms = parseAwsTimestamp(occurredAt);
  return ms === undefined ? {} : { timestamp: new Date(ms).toISOString() };
}

export function renderPager(intent: PageIntent, ctx: PageContext): PagerEvent {
  const s = intent.content;
  const resolve = intent.notice === 'resolve';
  const severity = resolve ? (ctx.incidentSeverity ?? intent.severity) : intent.severity;
  const details: Record<string, unknown> = {
    what_happened: s.summary,
    why: s.reason,
    ...(resolve ? {} : { [ctx.dryRun ? 'would_do_dry_run' : 'done']: actionLines(intent, ctx) }),
    repeats_not_paged: ctx.repeats,
    resources: s.resources.map((r) => r.arn ?? `${r.type} ${r.id}`),
    evidence: s.evidence,
    page_id: ctx.pageId,
    ...(ctx.resolvesPageId ? { resolves_page_id: ctx.resolvesPageId } : {}),
    correlation_id: intent.correlationId,
    incident_key: intent.incidentKey,
    stage: ctx.dryRun ? `${ctx.stage} (dry-run)` : ctx.stage,
  };
  const event: PagerEvent = {
    event_action: resolve ? 'resolve' : 'trigger',
    dedup_key: incidentPageId(ctx),
    payload: {
      summary: cutChars(
        `${toSubject(`[${resolve ? 'RESOLVED' : severity.toUpperCase()}] ${s.source}: ${s.title}`)}`,
        PAGER_SUMMARY_LIMIT,
      ),
      source: `aws:${s.account}:${s.region}`,
      severity: PAGER_SEVERITY[severity],
      ...timestampOf(intent.occurredAt),
      ...(s.resources[0] ? { component: s.resources[0].id } : {}),
      group: s.account,
      class: s.source,
      custom_details: details,
    },
    links: s.links.map((l) => ({ href: l.url, text: l.label })),
    client: 'ops-autopilot',
  };
  // Within SNS's message size whatever the evidence: it goes first, then the action lines.
  if (bytes(JSON.stringify(event)) > BODY_LIMIT) {
    details.evidence = { shortened: 'too large for one message: see the email and the logs' };
    if (bytes(JSON.stringify(event)) > BODY_LIMIT) {
      details.resources = s.resources.slice(0, 50).map((r) => r.arn ?? `${r.type} ${r.id}`);
      delete details.done;
      delete details.would_do_dry_run;
    }
  }
  return event;
}

/** The SNS message of a page on one channel. */
export function renderForChannel(
  channel: Exclude<PageChannel, 'text'>,
  intent: PageIntent,
  ctx: PageContext,
): string {
  return JSON.stringify(channel === 'chat' ? renderChat(intent, ctx) : renderPager(intent, ctx));
}
