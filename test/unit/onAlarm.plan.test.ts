import { describe, expect, it } from 'vitest';
import { planAlarm } from '#functions/onAlarm/plan.ts';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmFacts, alarmSignal } from '#functions/onAlarm/signal.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { pages, planFor, restartRule, runbooks, WEB } from '../support/alarmPlan.ts';
import { makeConfig } from '../support/config.ts';

describe('planAlarm', () => {
  it('starts the mapped runbook with the instance id from the dimensions, then pages', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(
      { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } },
      config,
    );
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['ssm.start-automation', 'sns.page']);
    const [runbook] = runbooks(plan.intents);
    expect(runbook?.document).toBe('AWS-RestartEC2Instance');
    expect(runbook?.parameters).toEqual({ InstanceId: ['i-0abc1234def567890'] });
    expect(pages(plan.intents)[0]?.severity).toBe('warning');
  });

  it("leaves the execution's record to the page when the rule pages, and to the start when it does not", () => {
    // Arrange
    const paging = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const silent = makeConfig({ dryRun: false, alarmRules: [{ ...restartRule, page: false }] });
    const event = { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } };
    // Act
    const paged = planFor(event, paging);
    const unpaged = planFor(event, silent);
    // Assert: no page, no one to write the record but the start.
    expect(runbooks(paged.intents)[0]?.recordedWithPage).toBe(true);
    expect(unpaged.intents.map((i) => i.kind)).toEqual(['ssm.start-automation']);
    expect(runbooks(unpaged.intents)[0]?.recordedWithPage).toBeUndefined();
  });

  it("runs the runbook as the stack's automation role unless the rule names one", () => {
    // Arrange
    const role = 'arn:aws:iam::123456789012:role/ops-autopilot-dev-runbooks';
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] }, { automationRoleArn: role });
    // Act
    const plan = planFor(
      { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } },
      config,
    );
    // Assert
    expect(runbooks(plan.intents)[0]?.parameters).toEqual({
      InstanceId: ['i-0abc1234def567890'],
      AutomationAssumeRole: [role],
    });
  });

  it("plans the same runbook and page on a dry-run stage: whether it runs is the runtime's decision", () => {
    // Arrange
    const live = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const dry = makeConfig({ dryRun: true, alarmRules: [restartRule] });
    // Act
    const livePlan = planFor({ alarmName: 'web-cpu-high' }, live);
    const dryPlan = planFor({ alarmName: 'web-cpu-high' }, dry);
    // Assert
    expect(dryPlan.intents.map((i) => i.kind)).toEqual(livePlan.intents.map((i) => i.kind));
    expect(runbooks(dryPlan.intents)).toEqual(runbooks(livePlan.intents));
    expect(runbooks(dryPlan.intents)[0]).not.toHaveProperty('dryRun');
    expect(pages(dryPlan.intents)).toHaveLength(1);
  });

  it('refuses a dimension value that is not an instance id and says why in the page', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(
      { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-123; rm -rf /' } },
      config,
    );
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes).toContainEqual(expect.objectContaining({ reason: 'invalid-parameter' }));
    expect(pages(plan.intents)[0]?.content.reason).toMatch(/is not a ec2-instance-id/);
  });

  it('refuses a runbook whose dimension is missing', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor({ alarmName: 'web-cpu-high', dimensions: { AutoScalingGroupName: 'web' } }, config);
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes[0]?.detail).toMatch(/has no dimension InstanceId/);
  });

  it('takes severity from the alarm tag over the rule and the default', () => {
    // Arrange
    const config = makeConfig({ alarmRules: [restartRule], defaultSeverity: 'info' });
    // Act
    const tagged = planFor({ alarmName: 'web-cpu-high' }, config, { severity: 'CRITICAL' });
    const untagged = planFor({ alarmName: 'web-cpu-high' }, config);
    const unmatched = planFor({ alarmName: 'db-disk-full' }, config);
    // Assert
    expect(pages(tagged.intents)[0]?.severity).toBe('critical');
    expect(pages(untagged.intents)[0]?.severity).toBe('warning');
    expect(pages(unmatched.intents)[0]?.severity).toBe('info');
  });

  it('matches rules by namespace and metric, and by alarm tag', () => {
    // Arrange
    const config = makeConfig({
      alarmRules: [
        {
          name: 'by-metric',
          match: { namespace: 'AWS/RDS', metricName: 'FreeStorageSpace' },
          severity: 'critical',
        },
        { name: 'by-tag', match: { tag: { key: 'team', value: 'payments' } }, severity: 'high' },
      ],
      defaultSeverity: 'info',
    });
    // Act
    const byMetric = planFor({ namespace: 'AWS/RDS', metricName: 'FreeStorageSpace' }, config);
    const byTag = planFor({}, config, { team: 'payments' });
    // Assert
    expect(pages(byMetric.intents)[0]?.severity).toBe('critical');
    expect(pages(byTag.intents)[0]?.severity).toBe('high');
  });

  it('pages with the default severity and notes that no rule matched', () => {
    // Arrange
    const config = makeConfig({ alarmRules: [restartRule], defaultSeverity: 'high' });
    // Act
    const plan = planFor({ alarmName: 'queue-depth' }, config);
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(plan.notes).toContainEqual(expect.objectContaining({ reason: 'no-matching-rule' }));
  });

  it('does neither start a runbook nor page for a muted alarm', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor({ alarmName: 'web-cpu-high', muted: true }, config);
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.notes).toContainEqual(expect.objectContaining({ reason: 'muted' }));
  });

  it('does not act on a composite alarm whose actions are held by its suppressor', () => {
    // Arrange
    const config = makeConfig({ dryRun: false });
    const event = AlarmEvent.parse(loadFixture('onAlarm/composite-alarm.json'));
    // Act
    const plan = planAlarm({
      signal: alarmSignal(event),
      facts: alarmFacts(event),
      gathered: { tags: {} },
      config,
    });
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.notes[0]?.detail).toMatch(/actions suppressor/);
  });

  it('plans a resolve notice for OK and nothing for INSUFFICIENT_DATA', () => {
    // Arrange
    const config = makeConfig({ alarmRules: [restartRule] });
    // Act
    const ok = planFor({ alarmName: 'web-cpu-high', state: 'OK' }, config);
    const unknown = planFor({ alarmName: 'web-cpu-high', state: 'INSUFFICIENT_DATA' }, config);
    // Assert
    expect(ok.intents).toEqual([expect.objectContaining({ kind: 'sns.page', notice: 'resolve' })]);
    expect(unknown.intents).toEqual([]);
  });

  it('derives the same runbook token for a duplicate delivery and a new one for a new transition', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const first = { alarmName: 'web-cpu-high', timestamp: '2025-06-21T02:17:44.533+0000' };
    // Act
    const a = runbooks(planFor({ ...first, id: 'delivery-1' }, config).intents)[0];
    const b = runbooks(planFor({ ...first, id: 'delivery-2' }, config).intents)[0];
    const c = runbooks(planFor({ ...first, timestamp: '2025-06-21T05:00:00.000+0000' }, config).intents)[0];
    // Assert
    expect(a?.clientToken).toBe(b?.clientToken);
    expect(a?.clientToken).not.toBe(c?.clientToken);
    expect(a?.clientToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('planAlarm: a late ALARM', () => {
  it('starts no runbook for an ALARM not later than the latest OK, and says so', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const okAt = Date.parse('2025-06-21T03:00:00.000Z');
    // Act
    const late = planFor(
      { ...WEB, timestamp: '2025-06-21T02:00:00.000+0000' },
      config,
      {},
      { recoveredAt: okAt },
    );
    const same = planFor(
      { ...WEB, timestamp: '2025-06-21T03:00:00.000+0000' },
      config,
      {},
      { recoveredAt: okAt },
    );
    const newer = planFor(
      { ...WEB, timestamp: '2025-06-21T04:00:00.000+0000' },
      config,
      {},
      { recoveredAt: okAt },
    );
    // Assert
    expect(runbooks(late.intents)).toHaveLength(0);
    expect(late.notes).toContainEqual(
      expect.objectContaining({
        reason: 'already-recovered',
        detail: expect.stringContaining('already returned to OK at 2025-06-21T03:00:00.000Z'),
      }),
    );
    expect(runbooks(same.intents)).toHaveLength(0);
    expect(runbooks(newer.intents)).toHaveLength(1);
  });
});
