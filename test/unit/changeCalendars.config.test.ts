import { describe, expect, it } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';

/** The calendars a stage, a rule or a detection names: bounded, and refused naming the field. */
const dev: StageConfigInput = stages.dev ?? { dryRun: true };
const withStage = (changes: Record<string, unknown>) => () => parseStageConfig('dev', { ...dev, ...changes });

describe('changeCalendars in config/stages.ts', () => {
  it('takes calendar names and ARNs for the stage, a rule, a detection, the idle stop, the anomaly stop and the backup retry', () => {
    // Act
    const stage = parseStageConfig('dev', {
      ...dev,
      changeCalendars: ['release-freeze', 'arn:aws:ssm:eu-west-1:123456789012:document/Holidays_2026.v1'],
      alarmRules: (dev.alarmRules ?? []).map((r) =>
        r.runbook ? { ...r, changeCalendars: ['web-freeze'] } : r,
      ),
      idleStop: { changeCalendars: ['idle-freeze'] },
      costAnomaly: {
        ...dev.costAnomaly,
        stopIdle: { ...dev.costAnomaly?.stopIdle, changeCalendars: ['cost-freeze'] },
      },
      backupFailure: { retry: true, changeCalendars: ['backup-freeze'] },
      cloudTrail: { detections: { 's3-bucket-public': { remediate: true, ignoreChangeFreeze: true } } },
    });
    // Assert
    expect(stage.changeCalendars).toEqual([
      'release-freeze',
      'arn:aws:ssm:eu-west-1:123456789012:document/Holidays_2026.v1',
    ]);
    expect(stage.cloudTrail.detections['s3-bucket-public']?.ignoreChangeFreeze).toBe(true);
  });

  it('holds no calendar by default, on every existing stage', () => {
    // Assert
    for (const [name, raw] of Object.entries(stages)) {
      expect(parseStageConfig(name, raw).changeCalendars, name).toEqual([]);
    }
  });

  it.each([
    ['a name with a space', ['release freeze'], 'changeCalendars.0: must be an SSM Change Calendar name'],
    ['a name too short', ['ab'], 'changeCalendars.0: must be an SSM Change Calendar name'],
    [
      'a name over 128 characters',
      ['c'.repeat(129)],
      'changeCalendars.0: must be an SSM Change Calendar name',
    ],
    [
      'an ARN of another service',
      ['arn:aws:s3:::bucket'],
      'changeCalendars.0: must be an SSM Change Calendar name',
    ],
    [
      'a calendar named twice',
      ['release-freeze', 'release-freeze'],
      'changeCalendars: names a calendar twice',
    ],
    ['eleven calendars', Array.from({ length: 11 }, (_, i) => `calendar-${i}`), 'changeCalendars: Too big'],
  ])('refuses %s, naming the field', (_case, calendars, message) => {
    // Assert
    expect(withStage({ changeCalendars: calendars })).toThrow(message);
  });

  it('refuses calendars on an alarm rule that starts no runbook, naming the rule', () => {
    // Arrange
    const rules = (dev.alarmRules ?? []).map((r) =>
      r.name === 'page-tagged-critical' ? { ...r, changeCalendars: ['web-freeze'] } : r,
    );
    // Assert
    expect(withStage({ alarmRules: rules })).toThrow(
      'alarm rule "page-tagged-critical": changeCalendars holds a runbook back, and the rule has none',
    );
  });

  it('refuses ignoreChangeFreeze or calendars on a detection that has no remediation, and both together', () => {
    // Assert
    expect(
      withStage({ cloudTrail: { detections: { 'root-console-sign-in': { ignoreChangeFreeze: true } } } }),
    ).toThrow(
      'cloudTrail: detection root-console-sign-in has no remediation; changeCalendars and ignoreChangeFreeze must not be set',
    );
    expect(
      withStage({
        cloudTrail: {
          detections: {
            's3-bucket-public': {
              remediate: true,
              ignoreChangeFreeze: true,
              changeCalendars: ['network-freeze'],
            },
          },
        },
      }),
    ).toThrow('cloudTrail: detection s3-bucket-public: ignoreChangeFreeze acts through every calendar');
  });
});
