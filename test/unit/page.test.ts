import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, skipped } from '#shared/domain/outcome.ts';
import { renderPage, SUBJECT_LIMIT, toSubject } from '#shared/domain/page.ts';
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

const incident = (signal: Signal): PageIntent => ({
  kind: 'sns.page',
  notice: 'incident',
  severity: 'critical',
  signal,
  reason: 'Matched rule web-cpu',
});

describe('renderPage', () => {
  it('writes a subject as [SEVERITY] kind: summary and a body with what, where, why, actions and links', () => {
    // Arrange
    const outcomes = [done('ssm.start-automation', 'started AWS-RestartEC2Instance (execution e-1)')];
    // Act
    const page = renderPage(incident(makeSignal()), { outcomes, repeats: 0, stage: 'prod', dryRun: false });
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
    });
  });

  it('says what would have been done in dry-run', () => {
    // Arrange
    const outcomes = [skipped('ssm.start-automation', 'dry-run', 'would start AWS-RestartEC2Instance')];
    // Act
    const page = renderPage(incident(makeSignal()), { outcomes, repeats: 0, stage: 'dev', dryRun: true });
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
});
