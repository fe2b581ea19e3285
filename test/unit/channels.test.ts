import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmSignal } from '#functions/onAlarm/signal.ts';
import {
  CHAT_DESCRIPTION_LIMIT,
  CHAT_TITLE_LIMIT,
  PAGER_SUMMARY_LIMIT,
  renderChat,
  renderPager,
} from '#shared/domain/channels.ts';
import { BODY_LIMIT, type PageContext, pageIntent } from '#shared/domain/page.ts';
import { DOC_PATH, documentedExamples, pagingExamples } from '../../scripts/paging/examples.ts';
import { loadFixture } from '../../tools/local/events.ts';

const signal = alarmSignal(AlarmEvent.parse(loadFixture('onAlarm/metric-alarm.json')));
const ctx: PageContext = { outcomes: [], repeats: 0, stage: 'prod', dryRun: false, pageId: 'page-1' };
const incident = pageIntent(signal, { notice: 'incident', severity: 'high', reason: 'a rule matched' });
const resolve = pageIntent(signal, { notice: 'resolve', severity: 'high', reason: 'it recovered' });
const resolveCtx: PageContext = {
  ...ctx,
  pageId: 'page-2',
  resolvesPageId: 'page-1',
  incidentSeverity: 'critical',
};

describe('the chat page (Amazon Q Developer custom notification)', () => {
  it('has the custom notification fields, the page id as its thread, and the links as next steps', () => {
    // Arrange
    const intent = incident;
    // Act
    const chat = renderChat(intent, ctx);
    // Assert
    expect(chat.version).toBe('1.0');
    expect(chat.source).toBe('custom');
    expect(chat.content.textType).toBe('client-markdown');
    expect(chat.content.title).toBe('[HIGH] alarm.state-change: web-cpu-high is ALARM');
    expect(chat.content.description).toContain('Page id: `page-1`');
    expect(chat.content.nextSteps).toEqual([
      '[Alarm](https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/web-cpu-high)',
    ]);
    expect(chat.content.keywords).toEqual(['high', 'alarm.state-change', '123456789012', 'us-east-1']);
    expect(chat.metadata.threadId).toBe('page-1');
  });

  it("puts a resolve notice in its page's thread", () => {
    // Arrange
    const intent = resolve;
    // Act
    const chat = renderChat(intent, resolveCtx);
    // Assert
    expect(chat.metadata.threadId).toBe('page-1');
    expect(chat.metadata.additionalContext).toMatchObject({ pageId: 'page-2', resolvesPageId: 'page-1' });
    expect(chat.content.title).toMatch(/^\[RESOLVED\]/);
  });

  it('stays within its title and description limits and keeps the ids when the evidence is huge', () => {
    // Arrange
    const evidence = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'x'.repeat(200)]));
    const huge = pageIntent(signal, {
      notice: 'incident',
      severity: 'high',
      reason: 'r'.repeat(10_000),
      say: { title: 't'.repeat(500), evidence },
    });
    // Act
    const chat = renderChat(huge, ctx);
    // Assert
    expect(chat.content.title.length).toBeLessThanOrEqual(CHAT_TITLE_LIMIT);
    expect(chat.content.description.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_LIMIT);
    expect(chat.content.description).toContain('shortened for chat');
    expect(chat.content.description).toContain('Page id: `page-1`');
  });

  it('escapes Markdown in names taken from events, so an alarm name cannot add a link', () => {
    // Arrange
    const sneaky = pageIntent(signal, {
      notice: 'incident',
      severity: 'high',
      reason: 'see [here](https://evil.example) *now*',
    });
    // Act
    const chat = renderChat(sneaky, ctx);
    // Assert
    expect(chat.content.description).toContain('see \\[here\\](https://evil.example) \\*now\\*');
  });
});

describe('the pager page (Events API v2, PagerDuty and Opsgenie)', () => {
  it('triggers with the page id as dedup key, the mapped severity and every id', () => {
    // Arrange
    const intent = incident;
    // Act
    const event = renderPager(intent, ctx);
    // Assert
    expect(event.event_action).toBe('trigger');
    expect(event.dedup_key).toBe('page-1');
    expect(event.payload.severity).toBe('error');
    expect(event.payload.source).toBe('aws:123456789012:us-east-1');
    expect(event.payload.timestamp).toBe('2025-06-15T14:30:41.605Z');
    expect(event.payload.custom_details).toMatchObject({
      page_id: 'page-1',
      correlation_id: signal.correlationId,
      incident_key: signal.incidentKey,
    });
    expect(event.links[0]?.text).toBe('Alarm');
  });

  it("resolves with its trigger's dedup key, at the incident's severity", () => {
    // Arrange
    const intent = resolve;
    // Act
    const event = renderPager(intent, resolveCtx);
    // Assert
    expect(event.event_action).toBe('resolve');
    expect(event.dedup_key).toBe('page-1');
    expect(event.payload.severity).toBe('critical');
    expect(event.payload.custom_details).toMatchObject({ page_id: 'page-2', resolves_page_id: 'page-1' });
  });

  it("keeps the summary within PagerDuty's 1,024 characters and the event within the SNS body limit", () => {
    // Arrange
    const evidence = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'x'.repeat(200)]));
    const huge = pageIntent(signal, {
      notice: 'incident',
      severity: 'critical',
      reason: 'r',
      say: { title: 't'.repeat(5000), evidence },
    });
    // Act
    const event = renderPager(huge, ctx);
    // Assert
    expect(event.payload.summary.length).toBeLessThanOrEqual(PAGER_SUMMARY_LIMIT);
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(BODY_LIMIT);
    expect(event.dedup_key).toBe('page-1');
  });
});

describe('docs/PAGING.md', () => {
  it.each(Object.keys(pagingExamples()))('shows the %s page exactly as it is rendered', (name) => {
    // Arrange
    const doc = readFileSync(DOC_PATH, 'utf8');
    // Act
    const shown = documentedExamples(doc)[name];
    // Assert
    expect(shown, `run npm run docs:paging to update the ${name} example`).toBe(pagingExamples()[name]);
  });
});
