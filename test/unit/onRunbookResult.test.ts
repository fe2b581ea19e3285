import { describe, expect, it } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { renderResultPage } from '#functions/onRunbookResult/pageClaim.ts';
import { planRunbookResult, type RunbookResultPageIntent } from '#functions/onRunbookResult/plan.ts';
import { RunbookResultEvent } from '#functions/onRunbookResult/schema.ts';
import { executionConsoleLink, observeRunbookResult } from '#functions/onRunbookResult/signal.ts';
import { onRunbookResult } from '#functions/onRunbookResult/spec.ts';
import type { Severity } from '#shared/domain/severity.ts';
import { LOCAL_ACCOUNT } from '#shared/runtime/functionSpec.ts';
import type { StoredAutomationExecution } from '#shared/state/automationExecutions.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

const EXECUTION = '333ba70b-2333-48db-b17e-a5e69c6f4d1c';
const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };

function problems(event: unknown): string[] {
  const parsed = RunbookResultEvent.safeParse(event);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const parse = (fixture: string) => RunbookResultEvent.parse(loadFixture(`onRunbookResult/${fixture}`));

/** The record onAlarm would have written for the sample's execution, after its page went out. */
function record(overrides: Partial<StoredAutomationExecution> = {}): StoredAutomationExecution {
  return {
    executionId: EXECUTION,
    document: 'runcommand1',
    rule: 'restart-unresponsive-instance',
    incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
    correlationId: 'alarm-delivery-1',
    account: '123456789012',
    region: 'us-east-1',
    signal: {
      kind: 'alarm.state-change',
      title: 'web-status-check is ALARM',
      summary: 'Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0).',
      occurredAt: '2016-11-29T19:40:00.000+0000',
      resource: {
        type: 'cloudwatch alarm',
        id: 'web-status-check',
        arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
      },
      links: [{ label: 'Alarm', url: 'https://us-east-1.console.aws.amazon.com/cloudwatch/home' }],
    },
    severity: 'critical',
    pageId: 'page-of-the-alarm',
    startedAt: 1_480_448_400,
    ...overrides,
  };
}

function planFor(
  fixture: string,
  execution: StoredAutomationExecution | undefined,
  runbookResult: StageConfigInput['runbookResult'] = {},
) {
  const observed = observeRunbookResult(parse(fixture));
  return planRunbookResult({
    ...observed,
    gathered: execution ? { execution } : {},
    config: makeConfig({ runbookResult }),
  });
}

function rendered(fixture: string, execution = record()) {
  const [intent] = planFor(fixture, execution).intents as RunbookResultPageIntent[];
  if (!intent) throw new Error(`${fixture} planned no page`);
  return renderResultPage(intent, 'dev', true);
}

describe('RunbookResultEvent schema', () => {
  const valid = listFixtures().filter((f) => f.startsWith('onRunbookResult/') && !f.includes('/invalid/'));
  const invalid = listFixtures().filter((f) => f.startsWith('onRunbookResult/invalid/'));

  it.each(valid)('accepts %s', (fixture) => {
    // Act
    const issues = problems(loadFixture(fixture));
    // Assert
    expect(issues).toEqual([]);
  });

  it.each([
    ['oversized-execution-id.json', 'detail.ExecutionId: must be an automation execution id'],
    ['foreign-account-execution.json', "resources: must hold the execution's ARN in the event's account"],
    ['future-end-time.json', 'detail.EndTime: is more than 5 minutes in the future'],
    ['unreadable-start-time.json', 'detail.StartTime: is not a readable timestamp'],
    ['in-progress.json', 'detail.Status: '],
    ['step-status-change.json', 'detail-type: '],
  ])('refuses invalid/%s naming the field', (fixture, issue) => {
    // Act
    const issues = problems(loadFixture(`onRunbookResult/invalid/${fixture}`));
    // Assert
    expect(
      issues.some((i) => i.startsWith(issue)),
      issues.join('\n'),
    ).toBe(true);
  });

  it('has a test for every invalid fixture', () => {
    expect(invalid).toHaveLength(6);
  });
});

describe('onRunbookResult signal', () => {
  it('links the execution in its own region of the console, China and GovCloud included', () => {
    // Act
    const links = ['us-east-2', 'cn-north-1', 'us-gov-west-1'].map((r) => executionConsoleLink(r, EXECUTION));
    // Assert
    expect(links).toEqual([
      `https://us-east-2.console.aws.amazon.com/systems-manager/automation/execution/${EXECUTION}?region=us-east-2`,
      `https://cn-north-1.console.amazonaws.cn/systems-manager/automation/execution/${EXECUTION}?region=cn-north-1`,
      `https://us-gov-west-1.console.amazonaws-us-gov.com/systems-manager/automation/execution/${EXECUTION}?region=us-gov-west-1`,
    ]);
  });

  it("refuses an event from another account or region than the function's; a local invoke's account is not compared", () => {
    // Arrange
    const event = parse('execution-failed.json');
    // Act
    const own = onRunbookResult.scope(event, SITE);
    const foreignAccount = onRunbookResult.scope(event, { ...SITE, account: '210987654321' });
    const foreignRegion = onRunbookResult.scope(event, { ...SITE, region: 'eu-west-1' });
    const local = onRunbookResult.scope(event, { ...SITE, account: LOCAL_ACCOUNT });
    // Assert
    expect(own).toEqual([]);
    expect(foreignAccount).toEqual([
      {
        path: 'account',
        message: `the event is from account 123456789012; this function runs in 210987654321 and acts only on its own`,
      },
    ]);
    expect(foreignRegion.map((i) => i.path)).toEqual(['region']);
    expect(local).toEqual([]);
  });
});

describe('onRunbookResult plan', () => {
  it('ignores an execution this system did not start: no page, a note saying so', () => {
    // Act
    const plan = planFor('unknown-execution-failed.json', undefined);
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.findings?.decision).toBe('ignored');
    expect(plan.notes).toEqual([
      expect.objectContaining({
        reason: 'nothing-to-do',
        detail: expect.stringContaining('was not started by this system'),
      }),
    ]);
  });

  it('ignores a record of another account or region than the event', () => {
    // Act
    const plan = planFor('execution-failed.json', record({ region: 'eu-west-1' }));
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.findings?.decision).toBe('ignored');
  });

  it.each([
    ['execution-failed.json', 'Failed'],
    ['execution-timed-out.json', 'TimedOut'],
    ['execution-cancelled.json', 'Cancelled'],
  ])(
    'escalates %s: the automation did not fix it, naming the earlier page and linking the execution',
    (fixture, status) => {
      // Act
      const page = rendered(fixture);
      // Assert
      expect(page.subject).toBe(
        `[CRITICAL] ssm.automation-result: Automation did not fix web-status-check: runcommand1 ${status}`,
      );
      expect(page.body).toContain('Earlier page id: page-of-the-alarm');
      expect(page.body).toContain(`ended ${status}: the automation did not fix it`);
      expect(page.body).toContain(
        `Execution: https://us-east-1.console.aws.amazon.com/systems-manager/automation/execution/${EXECUTION}?region=us-east-1`,
      );
      expect(page.body).toContain('web-status-check is ALARM (state change 2016-11-29T19:40:00.000+0000');
      expect(page.body).toContain('Threshold Crossed: 1 datapoint');
      expect(page.body).toContain(
        'Incident key: arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
      );
      expect(page.attributes).toMatchObject({
        notice: 'escalation',
        severity: 'critical',
        earlierPageId: 'page-of-the-alarm',
        executionId: EXECUTION,
      });
    },
  );

  it.each([
    ['info', 'high', 'high'],
    ['warning', 'high', 'high'],
    ['critical', 'high', 'critical'],
    ['high', 'critical', 'critical'],
  ] as const)(
    'escalates an original %s page at the stage minimum %s as %s',
    (original, minimum, expected) => {
      // Act
      const [intent] = planFor('execution-failed.json', record({ severity: original as Severity }), {
        minEscalationSeverity: minimum,
      }).intents;
      // Assert
      expect(intent?.severity).toBe(expected);
    },
  );

  it('gives each execution and status its own page id, the same for every delivery', () => {
    // Act
    const failed = [planFor('execution-failed.json', record()), planFor('execution-failed.json', record())];
    const timedOut = planFor('execution-timed-out.json', record());
    // Assert
    expect(failed[0]?.intents[0]?.result.pageId).toBe(failed[1]?.intents[0]?.result.pageId);
    expect(timedOut.intents[0]?.result.pageId).not.toBe(failed[0]?.intents[0]?.result.pageId);
    expect(timedOut.intents[0]?.result.pageId).not.toBe('page-of-the-alarm');
  });

  it('escalates a failure whose incident has no page recorded, saying so', () => {
    // Act
    const page = rendered('execution-failed.json', record({ pageId: undefined }));
    // Assert
    expect(page.body).toContain('No earlier page is recorded for this incident');
    expect(page.attributes.earlierPageId).toBeUndefined();
  });

  it('tells a paged incident once that its runbook succeeded: a notice on that incident, not a new one', () => {
    // Act
    const plan = planFor('execution-success.json', record());
    const page = rendered('execution-success.json');
    // Assert
    expect(plan.findings?.decision).toBe('notify');
    expect(page.subject).toBe(
      '[INFO] ssm.automation-result: Runbook runcommand1 succeeded for web-status-check',
    );
    expect(page.attributes).toMatchObject({
      notice: 'update',
      earlierPageId: 'page-of-the-alarm',
      severity: 'info',
    });
    expect(page.body).toContain('This is a notice on that incident, not a new one');
    expect(page.body).toContain(
      'Incident key: arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check',
    );
  });

  it('records a success without a notice when the incident was not paged, or the stage turns notices off', () => {
    // Act
    const unpaged = planFor('execution-success.json', record({ pageId: undefined }));
    const off = planFor('execution-success.json', record(), { notifySuccess: false });
    // Assert
    for (const plan of [unpaged, off]) {
      expect(plan.intents).toEqual([]);
      expect(plan.findings?.decision).toBe('recorded');
      expect(plan.notes[0]?.detail).toContain('succeeded for web-status-check is ALARM');
    }
  });
});
