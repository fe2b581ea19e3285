import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmSignal } from '#functions/onAlarm/signal.ts';
import { renderChat, renderPager } from '#shared/domain/channels.ts';
import { done } from '#shared/domain/outcome.ts';
import { type PageContext, pageIdOf, pageIntent, renderPage } from '#shared/domain/page.ts';

/**
 * The rendered examples in docs/PAGING.md, made from the documented metric alarm
 * (events/onAlarm/metric-alarm.json) with a runbook started: `npm run docs:paging` writes them into the
 * document, and test/unit/channels.test.ts fails when the document and the renderers disagree.
 */
export const DOC_PATH = join(import.meta.dirname, '..', '..', 'docs', 'PAGING.md');

export function pagingExamples(): Record<string, string> {
  const fixture = join(import.meta.dirname, '..', '..', 'events', 'onAlarm', 'metric-alarm.json');
  const event = AlarmEvent.parse(JSON.parse(readFileSync(fixture, 'utf8')));
  const signal = alarmSignal(event);
  const intent = pageIntent(signal, {
    notice: 'incident',
    severity: 'critical',
    reason: 'Alarm rule restart-unresponsive-instance matched (namespace AWS/EC2, metric CPUUtilization).',
  });
  const pageId = pageIdOf(signal.incidentKey, 'incident', signal.correlationId);
  const ctx: PageContext = {
    outcomes: [
      done('ssm.start-automation', 'started AWS-RestartEC2Instance on i-0abc1234def567890', {
        executionId: '4f6e2d1c-0b9a-4c3e-8d7f-6a5b4c3d2e1f',
      }),
    ],
    repeats: 0,
    stage: 'prod',
    dryRun: false,
    pageId,
  };
  const resolveIntent = { ...intent, notice: 'resolve' as const };
  const resolveCtx: PageContext = {
    outcomes: [],
    repeats: 2,
    stage: 'prod',
    dryRun: false,
    pageId: pageIdOf(signal.incidentKey, 'resolve', signal.correlationId),
    resolvesPageId: pageId,
    incidentSeverity: 'critical',
  };
  const text = renderPage(intent, ctx);
  return {
    text: `Subject: ${text.subject}\n\n${text.body}`,
    chat: JSON.stringify(renderChat(intent, ctx), null, 2),
    pager: JSON.stringify(renderPager(intent, ctx), null, 2),
    'pager-resolve': JSON.stringify(renderPager(resolveIntent, resolveCtx), null, 2),
  };
}

const fence = (name: string) =>
  new RegExp(`(<!-- example:${name} -->\\n\`\`\`\\w*\\n)([\\s\\S]*?)(\`\`\`\\n<!-- /example:${name} -->)`);

/** The examples as docs/PAGING.md shows them, by name (undefined when a block is missing). */
export function documentedExamples(doc: string): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.keys(pagingExamples()).map((name) => [name, fence(name).exec(doc)?.[2]?.replace(/\n$/, '')]),
  );
}

/** The document with every example block replaced by what the renderers produce now. */
export function withExamples(doc: string): string {
  let out = doc;
  for (const [name, text] of Object.entries(pagingExamples())) {
    if (!fence(name).test(out)) throw new Error(`docs/PAGING.md has no block <!-- example:${name} -->`);
    out = out.replace(
      fence(name),
      (_, open: string, __: string, close: string) => `${open}${text}\n${close}`,
    );
  }
  return out;
}
