import { describe, expect, it } from 'vitest';
import { regionScannedOf } from '#functions/stopIdleInstances/summaryPage.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import { accountSummaryPage } from '#shared/organization/scanSummary.ts';

// Unit layer: what a region's stop outcome turns into in its account's summary (pure), for the
// outcomes the handler tests do not reach on an organization's stage: approval, the hourly budget, a failure.
const part = {
  run: 'run-1',
  account: '111111111111',
  region: 'eu-west-1',
  regions: ['eu-west-1', 'us-east-1'],
  planned: ['i-0a', 'i-0b'],
  lines: ['stop  i-0a  t3.medium  0.5 %'],
};
const frame: PageIntent = {
  kind: 'sns.page',
  notice: 'incident',
  severity: 'warning',
  incidentKey: 'idle-scan#run-1#111111111111#eu-west-1',
  correlationId: 'run-1#111111111111#eu-west-1',
  occurredAt: '2025-06-21T10:00:00Z',
  content: {
    source: 'ec2.idle-scan',
    title: 'idle scan',
    summary: 's',
    account: '111111111111',
    region: 'eu-west-1',
    resources: [],
    evidence: {},
    links: [],
    reason: 'idle',
    nothingDone: 'n',
  },
};
const summaryOf = (outcome: Parameters<typeof regionScannedOf>[1][number]) => {
  const region = regionScannedOf(part, [outcome]);
  if (!region) throw new Error('not recorded');
  return accountSummaryPage(frame, {
    run: part.run,
    account: part.account,
    runRegions: part.regions,
    regions: [region],
    missing: [],
    base: { evidence: {}, reason: 'idle' },
  });
};

describe("a region's stop outcome in its account's summary", () => {
  it('lists the stops that wait for approval, with the approval line, as needing approval', () => {
    // Act
    const page = summaryOf(
      skipped('ec2.stop-instances', 'approval-pending', 'waits for approval appr-1: approve with ...'),
    );
    // Assert
    expect(page.content.title).toMatch(/needs approval to stop 2 instance\(s\)/);
    expect(page.content.details).toContain(
      'Region eu-west-1: needs approval to stop 2 instance(s): i-0a, i-0b',
    );
    expect(page.content.details?.join('\n')).toContain('waits for approval appr-1');
  });

  it('says the hourly budget kept the stops from happening, naming no instance as stopped', () => {
    // Act
    const capped = {
      ...skipped('ec2.stop-instances', 'capped', 'the limit of 10 stops per rolling hour was reached'),
      refs: { 'i-0a': 'not stopped: limit' },
    };
    const page = summaryOf(capped);
    // Assert
    expect(page.content.details).toContain('Region eu-west-1: did not stop');
    expect(page.content.details?.join('\n')).toContain('limit of 10 stops per rolling hour');
    expect(page.content.title).toMatch(/stopped no instance/);
  });

  it('names only the instances that did stop when some of the batch did not', () => {
    // Act
    const page = summaryOf(
      done('ec2.stop-instances', 'stopped 1 of 2', { 'i-0a': 'stopped', 'i-0b': 'stop-protected' }),
    );
    // Assert
    expect(page.content.details).toContain('Region eu-west-1: stopped 1 instance(s): i-0a');
    expect(page.incidentKey).toBe('idle-scan#run-1#111111111111');
  });

  it('records nothing for a region whose stops failed: its retry records it', () => {
    // Act
    const region = regionScannedOf(part, [failed('ec2.stop-instances', new Error('boom'), 'failed')]);
    // Assert
    expect(region).toBeUndefined();
  });
});
