import { describe, expect, it } from 'vitest';
import { idleScanPageText } from '#functions/stopIdleInstances/scanPage.ts';
import { regionScannedOf } from '#functions/stopIdleInstances/summaryPage.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done } from '#shared/domain/outcome.ts';
import { STOP_PROTECTED_REF } from '#shared/executors/stopInstances.ts';
import type { IdleVerdict } from '#shared/idle/fleet.ts';
import { verdictTableData } from '#shared/idle/verdictTable.ts';
import { accountSummaryPage } from '#shared/organization/scanSummary.ts';

// Unit layer: an organization region whose StopInstances refused a stop-protected instance. Its part of
// the account's summary is recorded from the stop outcome and its page's data (pure): the refused
// instance is neither counted as stopped nor listed as a stop.
const evidence = { maxCpuPercent: 1, maxNetworkBytesPerHour: 2000, cpuHoursCovered: 24, hoursExpected: 24 };
const stop = (instanceId: string, instanceType: string, saving: number): IdleVerdict => ({
  instanceId,
  instanceType,
  decision: 'stop',
  reason: 'idle',
  evidence: { ...evidence } as IdleVerdict['evidence'],
  estimatedMonthlySavingUsd: saving,
});
const verdicts = [
  stop('i-0a', 't3.large', 60.74),
  stop('i-0b', 'm5.large', 70.08),
  stop('i-0p', 't3.micro', 7.59),
];
const idle = {
  verb: 'stopping',
  dryRun: false,
  considered: 3,
  capped: 0,
  cappedMonthlySavingUsd: 0,
  table: verdictTableData(verdicts),
  whereAll: 'in the action log.',
  priceLabel: 'us-east-1 list prices',
};
const part = {
  run: 'run-1',
  account: '111111111111',
  region: 'eu-west-1',
  regions: ['eu-west-1'],
  planned: ['i-0a', 'i-0b', 'i-0p'],
  lines: idleScanPageText(idle).details ?? [],
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
const refusedOne = done(
  'ec2.stop-instances',
  'stopped 2 of 3 instance(s): i-0a, i-0b; 1 refused by stop protection (disableApiStop): i-0p',
  { 'i-0a': 'stopped', 'i-0b': 'stopped', 'i-0p': STOP_PROTECTED_REF },
);

describe("a region's stop refused by stop protection in its account's summary", () => {
  it('counts only the stopped instances and lists the refused one as excluded for stop protection', () => {
    // Act
    const region = regionScannedOf(part, [refusedOne], idle);
    if (!region) throw new Error('not recorded');
    const page = accountSummaryPage(frame, {
      run: part.run,
      account: part.account,
      runRegions: part.regions,
      regions: [region],
      missing: [],
      base: { evidence: {}, reason: 'idle' },
    });
    // Assert
    expect(page.content.title).toBe('idle scan stopped 2 instance(s) in account 111111111111 (1 region(s))');
    const details = page.content.details ?? [];
    expect(details).toContain('Region eu-west-1: stopped 2 instance(s): i-0a, i-0b');
    expect(details.some((l) => /^ {4}stop +i-0p /.test(l))).toBe(false);
    expect(details.some((l) => /^ {4}excluded +i-0p +t3\.micro /.test(l))).toBe(true);
    expect(details).toContain('  Excluded: 1 (stop-protection 1)');
    expect(details).toContain(
      '  Estimated monthly saving: $130.82/month (on-demand compute, EBS stays billed; us-east-1 list prices)',
    );
  });

  it('keeps the planned lines of a region whose stops were all made', () => {
    // Arrange
    const allStopped = done('ec2.stop-instances', 'stopped 3 of 3 instance(s)', {
      'i-0a': 'stopped',
      'i-0b': 'stopped',
      'i-0p': 'stopped',
    });
    // Act
    const region = regionScannedOf(part, [allStopped], idle);
    // Assert
    expect(region?.lines).toEqual(['DONE ec2.stop-instances: stopped 3 of 3 instance(s)', ...part.lines]);
    expect(region?.stops).toEqual(['i-0a', 'i-0b', 'i-0p']);
  });
});
