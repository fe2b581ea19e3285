import { describe, expect, it } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { type CostAnomalyIntent, planCostAnomaly } from '#functions/onCostAnomaly/plan.ts';
import { CostAnomalyEvent } from '#functions/onCostAnomaly/schema.ts';
import { observeCostAnomaly } from '#functions/onCostAnomaly/signal.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { renderPage } from '#shared/domain/page.ts';
import { UNPAIRED_SURROGATE } from '#shared/domain/text.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';
import { costAnomaly } from '../support/events/index.ts';

/** The issues of a payload the schema refuses, as `path: message`; [] when it is accepted. */
function problems(event: unknown): string[] {
  const parsed = CostAnomalyEvent.safeParse(event);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const parse = (fixture: string) => CostAnomalyEvent.parse(loadFixture(`onCostAnomaly/${fixture}`));

/** The pages a plan asks for (an anomaly above the stop threshold also plans stops). */
const pagesOf = (plan: { intents: CostAnomalyIntent[] }): PageIntent[] =>
  plan.intents.filter((i): i is PageIntent & CostAnomalyIntent => i.kind === 'sns.page');

function planFor(fixture: string, costAnomaly: StageConfigInput['costAnomaly'] = {}) {
  const observed = observeCostAnomaly(parse(fixture));
  return planCostAnomaly({ ...observed, gathered: {}, config: makeConfig({ costAnomaly }) });
}

function pageBody(fixture: string): { subject: string; body: string } {
  const [page] = planFor(fixture).intents as PageIntent[];
  if (!page) throw new Error(`${fixture} planned no page`);
  return renderPage(page, { outcomes: [], repeats: 0, stage: 'dev', dryRun: true, pageId: 'p-1' });
}

describe('CostAnomalyEvent schema', () => {
  const valid = listFixtures().filter((f) => f.startsWith('onCostAnomaly/') && !f.includes('/invalid/'));
  const invalid = listFixtures().filter((f) => f.startsWith('onCostAnomaly/invalid/'));

  it.each(valid)('accepts %s', (fixture) => {
    // Act
    const issues = problems(loadFixture(fixture));
    // Assert
    expect(issues).toEqual([]);
  });

  const expected: Record<string, string> = {
    'onCostAnomaly/invalid/empty-anomaly-id.json': 'detail.anomalyId: must be 1 to 128 printable ASCII',
    'onCostAnomaly/invalid/future-end-date.json':
      'detail.anomalyEndDate: is more than 5 minutes in the future',
    'onCostAnomaly/invalid/end-before-start.json':
      'detail.anomalyEndDate: must not be before anomalyStartDate',
    'onCostAnomaly/invalid/negative-impact.json': 'detail.impact.totalImpact: ',
    'onCostAnomaly/invalid/impact-as-text.json': 'detail.impact.totalImpact: ',
    'onCostAnomaly/invalid/foreign-details-link.json':
      "detail.anomalyDetailsLink: must be an https link to AWS's console",
    'onCostAnomaly/invalid/bad-linked-account.json': 'detail.rootCauses.0.linkedAccount: must be a 12-digit',
    'onCostAnomaly/invalid/lone-surrogate-details-link.json': `detail.anomalyDetailsLink: ${UNPAIRED_SURROGATE}`,
    'onCostAnomaly/invalid/lone-surrogate-monitor-arn.json': `detail.monitorArn: ${UNPAIRED_SURROGATE}`,
  };

  it.each(invalid)('refuses %s, naming the field', (fixture) => {
    // Act
    const issues = problems(loadFixture(fixture));
    // Assert
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain(expected[fixture]);
  });

  it('refuses an impact that is not a finite number', () => {
    // Arrange
    const event = costAnomaly('anomaly-detected', {
      impact: { totalImpactPercentage: Number.POSITIVE_INFINITY },
    });
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^detail\.impact\.totalImpactPercentage: /);
  });
});

describe('onCostAnomaly plan: thresholds', () => {
  it('pages an anomaly above both default thresholds', () => {
    // Act
    const plan = planFor('anomaly-detected.json');
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(plan.findings?.decision).toBe('page');
  });

  it('records an anomaly below the thresholds without a page, saying which threshold it missed', () => {
    // Act
    const plan = planFor('below-threshold.json');
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.findings?.decision).toBe('below-threshold');
    expect(plan.notes).toEqual([
      expect.objectContaining({
        reason: 'nothing-to-do',
        withheld: 'sns.page',
        detail: expect.stringContaining('impact $42.00 < $100.00; 14 % < 20 % (both must pass)'),
      }),
    ]);
  });

  it('with "both", refuses an anomaly that passes the dollars but not the percentage', () => {
    // Act
    const plan = planFor('anomaly-detected.json', { minImpactDollars: 500, minImpactPercent: 400 });
    // Assert
    expect(plan.intents).toEqual([]);
  });

  it('with "either", pages an anomaly that passes the dollars but not the percentage', () => {
    // Act
    const plan = planFor('anomaly-detected.json', {
      minImpactDollars: 500,
      minImpactPercent: 400,
      require: 'either',
    });
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
  });

  it('with "either", still records an anomaly that passes neither', () => {
    // Act
    const plan = planFor('below-threshold.json', { require: 'either' });
    // Assert
    expect(plan.intents).toEqual([]);
  });

  it('pages with the severity the stage sets', () => {
    // Act
    const [page] = pagesOf(planFor('anomaly-detected.json', { severity: 'critical' }));
    // Assert
    expect(page?.severity).toBe('critical');
  });
});

describe('onCostAnomaly page', () => {
  it('says the impact, expected and actual spend, the dates and the monitor', () => {
    // Act
    const { subject, body } = pageBody('anomaly-detected.json');
    // Assert
    expect(subject).toBe(
      '[WARNING] cost.anomaly: Amazon Elastic Compute Cloud - Compute: +$1,001.00 (333.67 %) above expected',
    );
    expect(body).toContain('totalImpact: $1,001.00');
    expect(body).toContain('impactPercentage: 333.67 %');
    expect(body).toContain('expectedSpend: $300.00');
    expect(body).toContain('actualSpend: $1,301.00');
    expect(body).toContain('anomalyStart: 2021-05-25T00:00:00Z');
    expect(body).toContain('lastUpdated: 2021-05-25T00:00:00Z');
    expect(body).toContain(
      'monitor: aws-services-monitor (arn:aws:ce::123456789012:anomalymonitor/abcdef12-1234-4ea0-84cc-918a97d736ef)',
    );
  });

  it('lists every root cause with its service, region, linked account and name, usage type and contribution', () => {
    // Act
    const { body } = pageBody('multiple-root-causes.json');
    // Assert
    expect(body).toContain('Root causes (3)');
    expect(body).toContain(
      '  - Amazon Elastic Compute Cloud - Compute, in us-east-1, account 123456789012 (prod-payments), usage type BoxUsage:m5.2xlarge: $601.00',
    );
    expect(body).toContain(
      '  - Amazon Elastic Compute Cloud - Compute, in us-west-2, account 123456789012 (prod-payments), usage type USW2-BoxUsage:c5.4xlarge: $250.00',
    );
    expect(body).toContain(
      '  - Amazon Relational Database Service, in us-east-1, account 210987654321 (analytics-dev), usage type InstanceUsage:db.r5.large: $150.00',
    );
  });

  it("names the linked account a root cause is in among the page's resources", () => {
    // Act
    const { body } = pageBody('linked-account.json');
    // Assert
    expect(body).toContain('  aws account 210987654321');
    expect(body).toContain(
      'account 210987654321 (analytics-dev), usage type EUW1-TimedStorage-ByteHrs: $840.00',
    );
  });

  it("links AWS's anomaly page and Cost Explorer over the anomaly's days", () => {
    // Act
    const { body } = pageBody('anomaly-updated.json');
    // Assert
    expect(body).toContain(
      'Anomaly (AWS): https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/abcdef12-1234-4ea0-84cc-918a97d736ef/anomalies/12345678-abcd-ef12-3456-987654321a12',
    );
    expect(body).toContain(
      'Cost Explorer: https://console.aws.amazon.com/cost-management/home#/cost-explorer?startDate=2021-05-25&endDate=2021-05-26&granularity=Daily&groupBy=%5B%22Service%22%5D',
    );
  });
});

describe('onCostAnomaly plan: one incident per anomaly', () => {
  const planWith = (fixture: string, lastPaged: { impactCents: number; pagedBy: string; sent: boolean }) =>
    planCostAnomaly({
      ...observeCostAnomaly(parse(fixture)),
      gathered: { lastPaged },
      config: makeConfig(),
    });

  it('pages a larger impact as an update, keyed by its impact so it has its own page id', () => {
    // Act
    const plan = planWith('anomaly-updated.json', { impactCents: 100_100, pagedBy: 'other', sent: true });
    // Assert
    const [page] = pagesOf(plan);
    expect(plan.findings?.decision).toBe('update');
    expect(page?.content.title).toMatch(/^Update: /);
    expect(page?.content.evidence).toMatchObject({ previouslyPaged: '$1,001.00', change: '+$1,101.00' });
    expect(page?.incidentKey).toBe('cost-anomaly:123456789012:12345678-abcd-ef12-3456-987654321a12#210200');
  });

  it('counts the same impact from another delivery without paging', () => {
    // Act
    const plan = planWith('anomaly-detected.json', { impactCents: 100_100, pagedBy: 'other', sent: true });
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.notes).toEqual([expect.objectContaining({ reason: 'suppressed', withheld: 'sns.page' })]);
  });

  it("pages again on its own delivery's retry while its page is not recorded as sent", () => {
    // Arrange
    const id = parse('anomaly-detected.json').id;
    // Act
    const plan = planWith('anomaly-detected.json', { impactCents: 100_100, pagedBy: id, sent: false });
    // Assert
    expect(pagesOf(plan).map((i) => i.content.title)).toEqual([
      'Amazon Elastic Compute Cloud - Compute: +$1,001.00 (333.67 %) above expected',
    ]);
  });
});
