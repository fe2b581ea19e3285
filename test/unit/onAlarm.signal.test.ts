import { describe, expect, it } from 'vitest';
import { planAlarm } from '#functions/onAlarm/plan.ts';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmFacts, alarmSignal } from '#functions/onAlarm/signal.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { runbooks } from '../support/alarmPlan.ts';
import { makeConfig } from '../support/config.ts';
import { alarmStateChange } from '../support/events/index.ts';

describe('alarmSignal', () => {
  it.each([
    ['onAlarm/metric-alarm.json', 'metric'],
    ['onAlarm/metric-math-alarm.json', 'metric-math'],
    ['onAlarm/anomaly-detection-alarm.json', 'anomaly-detection'],
    ['onAlarm/composite-alarm.json', 'composite'],
    ['onAlarm/multi-time-series-alarm.json', 'multi-time-series'],
    ['onAlarm/multi-time-series-contributor-alarm.json', 'multi-time-series'],
  ])('recognises %s as a %s alarm', (fixture, type) => {
    // Arrange
    const event = AlarmEvent.parse(loadFixture(fixture));
    // Act
    const signal = alarmSignal(event);
    // Assert
    expect(signal.evidence.alarmType).toBe(type);
    expect(signal.correlationId).toBe(event.id);
    expect(signal.account).toBe('123456789012');
  });

  it("files a contributor under its alarm's incident, so one alarm pages once, and names the contributor", () => {
    // Arrange
    const contributor = AlarmEvent.parse(loadFixture('onAlarm/multi-time-series-contributor-alarm.json'));
    // Act
    const signal = alarmSignal(contributor);
    // Assert
    expect(signal.incidentKey).toBe(contributor.resources[0]);
    expect(signal.title).toContain('TableName=payments-ledger');
  });

  it('starts one runbook per contributor but lets only the alarm-level OK resolve', () => {
    // Arrange
    const config = makeConfig({
      dryRun: false,
      alarmRules: [
        {
          name: 'ddb',
          match: { alarmName: 'ddb-*' },
          runbook: {
            document: 'Scale-Table',
            parameters: { Table: { fromDimension: 'TableName', format: 'name' } },
            scope: 'none',
          },
        },
      ],
    });
    const raw = alarmStateChange('multi-time-series-contributor-alarm');
    const other = alarmStateChange('multi-time-series-contributor-alarm', {
      contributor: { id: 'ffff', attributes: { TableName: 'orders' } },
    });
    const ok = alarmStateChange('multi-time-series-contributor-alarm', { state: 'OK' });
    const planOf = (e: unknown) => {
      const event = AlarmEvent.parse(e);
      return planAlarm({
        signal: alarmSignal(event),
        facts: alarmFacts(event),
        gathered: { tags: {} },
        config,
      });
    };
    // Act
    const [a, b, resolve] = [planOf(raw), planOf(other), planOf(ok)];
    // Assert
    expect(runbooks(a.intents)[0]?.parameters).toEqual({ Table: ['payments-ledger'] });
    expect(runbooks(b.intents)[0]?.parameters).toEqual({ Table: ['orders'] });
    expect(runbooks(a.intents)[0]?.clientToken).not.toBe(runbooks(b.intents)[0]?.clientToken);
    expect(resolve.intents).toEqual([]);
  });

  it('carries the datapoints and threshold from reasonData as evidence', () => {
    // Arrange
    const event = AlarmEvent.parse(loadFixture('onAlarm/metric-alarm.json'));
    // Act
    const signal = alarmSignal(event);
    // Assert
    expect(signal.evidence.threshold).toBeTypeOf('number');
    expect(String(signal.evidence.recentDatapoints)).toMatch(/\d/);
    expect(signal.resources).toContainEqual({ type: 'ec2 instance', id: 'i-0abc1234def567890' });
  });

  it('survives reasonData that is not JSON', () => {
    // Arrange
    const raw = alarmStateChange('metric-alarm', { reasonData: '{not json' });
    // Act
    const signal = alarmSignal(AlarmEvent.parse(raw));
    // Assert
    expect(signal.evidence.threshold).toBeUndefined();
    expect(signal.summary).toMatch(/Threshold Crossed/);
  });
});
