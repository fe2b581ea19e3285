import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, skipped } from '#shared/domain/outcome.ts';
import {
  BODY_LIMIT,
  pageIdOf,
  pageIntent,
  renderPage,
  SUBJECT_LIMIT,
  toSubject,
} from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';

function makeSignal(overrides: Partial<Signal> = {}): Signal {
  return {
    kind: 'alarm.state-change',
    severity: 'high',
    title: 'web-cpu-high is ALARM',
    summary: 'Threshold Crossed: 1 datapoint [94.2] was greater than the threshold (80.0).',
    account: '123456789012',
    region: 'eu-west-1',
    resources: [{ type: 'ec2 instance', id: 'i-0abc1234def567890' }],
    correlationId: 'evt-1',
    incidentKey: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu-high',
    occurredAt: '2025-06-21T02:17:44.533+0000',
    evidence: { threshold: 80, recentDatapoints: '94.2' },
    links: [{ label: 'Alarm', url: 'https://example.invalid/alarm' }],
    ...overrides,
  };
}

const incident = (signal: Signal, extra: { details?: string[]; reason?: string } = {}): PageIntent =>
  pageIntent(signal, {
    notice: 'incident',
    severity: 'critical',
    reason: extra.reason ?? 'Matched rule web-cpu',
    ...(extra.details ? { details: extra.details } : {}),
  });

const ctx = { outcomes: [], repeats: 0, stage: 'prod', dryRun: false, pageId: 'p-1' };
/** What a person on call needs whatever the size: what, where, why, links and the ids. */
const headParts = [
  'web-cpu-high is ALARM',
  'What happened',
  'Account 123456789012, region eu-west-1',
  'ec2 instance i-0abc1234def567890',
  'Why',
  'Matched rule web-cpu',
  'Alarm: https://example.invalid/alarm',
  'Page id: p-1',
  'Correlation id: evt-1',
  'Incident key: arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu-high',
];

describe('renderPage', () => {
  it('writes a subject as [SEVERITY] kind: summary and a body with what, where, why, actions and links', () => {
    // Arrange
    const outcomes = [done('ssm.start-automation', 'started AWS-RestartEC2Instance (execution e-1)')];
    // Act
    const page = renderPage(incident(makeSignal()), {
      outcomes,
      repeats: 0,
      stage: 'prod',
      dryRun: false,
      pageId: 'p-1',
    });
    // Assert
    expect(page.subject).toBe('[CRITICAL] alarm.state-change: web-cpu-high is ALARM');
    expect(page.body).toContain('What happened');
    expect(page.body).toContain('Account 123456789012, region eu-west-1');
    expect(page.body).toContain('ec2 instance i-0abc1234def567890');
    expect(page.body).toContain('Matched rule web-cpu');
    expect(page.body).toContain('threshold: 80');
    expect(page.body).toContain('DONE ssm.start-automation: started AWS-RestartEC2Instance');
    expect(page.body).toContain('https://example.invalid/alarm');
    expect(page.body).toContain('Correlation id: evt-1');
    expect(page.attributes).toEqual({
      severity: 'critical',
      kind: 'alarm.state-change',
      account: '123456789012',
      region: 'eu-west-1',
      notice: 'incident',
      pageId: 'p-1',
    });
    expect(page.body).toContain('Page id: p-1');
  });

  it('says what would have been done in dry-run', () => {
    // Arrange
    const outcomes = [skipped('ssm.start-automation', 'dry-run', 'would start AWS-RestartEC2Instance')];
    // Act
    const page = renderPage(incident(makeSignal()), {
      outcomes,
      repeats: 0,
      stage: 'dev',
      dryRun: true,
      pageId: 'p-1',
    });
    // Assert
    expect(page.body).toContain('would do (dry-run: nothing was changed)');
    expect(page.body).toContain('SKIPPED (dry-run) ssm.start-automation: would start');
  });

  it('shows the repeats swallowed since the last page', () => {
    // Act
    const page = renderPage(incident(makeSignal()), {
      outcomes: [],
      repeats: 4,
      stage: 'dev',
      dryRun: false,
      pageId: 'p-1',
    });
    // Assert
    expect(page.body).toContain('Repeats: 4 deliveries');
  });

  it('keeps every subject within 100 printable ASCII characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (title) => {
        // Act
        const page = renderPage(incident(makeSignal({ title })), {
          outcomes: [],
          repeats: 0,
          stage: 'dev',
          dryRun: false,
          pageId: 'p-1',
        });
        // Assert
        expect(page.subject.length).toBeLessThanOrEqual(SUBJECT_LIMIT);
        expect(page.subject).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 500 },
    );
  });

  it('turns accented and non-ASCII names into readable ASCII', () => {
    expect(toSubject('Café ☕ latency\nhigh')).toBe('Cafe ? latency high');
  });

  it('leaves a page within the size bound untouched and does not call it shortened', () => {
    // Arrange
    const details = Array.from({ length: 50 }, (_, i) => `  i-${i} spared: busy`);
    // Act
    const page = renderPage(incident(makeSignal(), { details }), ctx);
    // Assert
    expect(page.body).toContain('  i-49 spared: busy');
    expect(page.body).not.toContain('shortened');
  });

  it('shortens a huge idle-scan table to the bound, keeps the head and ids, and says so', () => {
    // Arrange: 20,000 verdict lines, about 1.5 MB.
    const details = Array.from(
      { length: 20_000 },
      (_, i) => `  i-${String(i).padStart(17, '0')}  spared  CPU max 43.2 % over 24 h, network 812 MB/h`,
    );
    const intent = incident(makeSignal(), { details });
    const outcomes = [done('ssm.start-automation', 'started AWS-RestartEC2Instance (execution e-1)')];
    // Act
    const page = renderPage(intent, { ...ctx, outcomes });
    // Assert
    expect(Buffer.byteLength(page.body, 'utf8')).toBeLessThanOrEqual(BODY_LIMIT);
    for (const part of headParts) expect(page.body).toContain(part);
    expect(page.body).toContain('DONE ssm.start-automation: started AWS-RestartEC2Instance');
    expect(page.body).toContain(details[0]);
    expect(page.body).not.toContain(details[19_999]);
    expect(page.body).toMatch(
      /shortened to fit the SNS message size: 0 of 2 evidence line\(s\) and \d+ of 20000 detail line\(s\) left out/,
    );
  });

  it('keeps every body within the bound and its head and ids whole, whatever the evidence and details', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 3000 }), { maxLength: 200 }),
        fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 5000 }), {
          maxKeys: 60,
        }),
        fc.nat({ max: 80_000 }),
        (details, evidence, padding) => {
          // Arrange: random details and evidence, padded towards and past the bound.
          const big = details.concat(padding > 0 ? ['x'.repeat(padding), '€'.repeat(padding)] : []);
          const intent = incident(makeSignal({ evidence }), { details: big });
          // Act
          const page = renderPage(intent, ctx);
          // Assert
          expect(Buffer.byteLength(page.body, 'utf8')).toBeLessThanOrEqual(BODY_LIMIT);
          for (const part of headParts) expect(page.body).toContain(part);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('cuts an oversized head rather than exceed the bound, and keeps the ids', () => {
    // Arrange: a reason of 300 KB, far beyond any real one.
    const intent = incident(makeSignal(), { reason: 'é'.repeat(150_000) });
    // Act
    const page = renderPage(intent, ctx);
    // Assert
    expect(Buffer.byteLength(page.body, 'utf8')).toBeLessThanOrEqual(BODY_LIMIT);
    expect(page.body).toContain('This page was shortened');
    expect(page.body).toContain('Page id: p-1');
    expect(page.body).toContain('Correlation id: evt-1');
  });
});

describe('pageIdOf', () => {
  const key = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu-high';

  it('gives every delivery of one notice the same id, and each notice and incident its own', () => {
    // Act
    const first = pageIdOf(key, 'incident', 'evt-1');
    // Assert
    expect(pageIdOf(key, 'incident', 'evt-1')).toBe(first);
    expect(pageIdOf(key, 'resolve', 'evt-1')).not.toBe(first);
    expect(pageIdOf(key, 'incident', 'evt-2')).not.toBe(first);
    expect(pageIdOf(`${key}-other`, 'incident', 'evt-1')).not.toBe(first);
  });
});
