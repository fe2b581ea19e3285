import { describe, expect, it } from 'vitest';
import { functionStatements } from '#deploy/stack/roles.ts';
import { registry } from '#functions/index.ts';
import { makeConfig } from '../support/config.ts';

/**
 * Each role may read exactly the change calendars its function checks before a live action, on the
 * document resource GetCalendarState is authorized on (arn:<partition>:ssm:<region>:<account>:document/<name>),
 * and none on a stage without calendars.
 */

const document = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${name}`,
});
const SHARED = 'arn:aws:ssm:eu-west-1:111122223333:document/org-freeze';

/** The dev stage (it runs runbooks, every remediation, retries, anomaly stops) with calendars everywhere. */
const frozen = makeConfig({
  changeCalendars: ['release-freeze', SHARED],
  alarmRules: (makeConfig().alarmRules ?? []).map((r) =>
    r.name === 'web-cpu' ? { ...r, changeCalendars: ['web-freeze'] } : r,
  ),
  idleStop: { changeCalendars: ['idle-freeze'] },
  costAnomaly: { stopIdle: { enabled: true, minImpactDollars: 2000, changeCalendars: ['cost-freeze'] } },
  backupFailure: { retry: true, changeCalendars: ['backup-freeze'] },
  cloudTrail: {
    detections: {
      'security-group-open-to-world': { remediate: true, changeCalendars: ['network-freeze'] },
      's3-bucket-public': { remediate: true, ignoreChangeFreeze: true, changeCalendars: undefined },
    },
  },
});

const entry = (name: string) => {
  const found = registry.find((e) => e.name === name);
  if (!found) throw new Error(`no ${name} in the registry`);
  return found;
};
const calendarStatementsOf = (name: string, stage = frozen) =>
  functionStatements('dev', entry(name), stage).filter((s) =>
    [s.Action].flat().includes('ssm:GetCalendarState'),
  );

describe("a role's change calendars", () => {
  it.each([
    ['onAlarm', ['release-freeze', SHARED, 'web-freeze']],
    ['stopIdleInstances', ['release-freeze', SHARED, 'idle-freeze']],
    ['onCostAnomaly', ['release-freeze', SHARED, 'idle-freeze', 'cost-freeze']],
    ['onBackupFailure', ['release-freeze', SHARED, 'backup-freeze']],
    ['onCloudTrail', ['release-freeze', SHARED, 'network-freeze']],
  ])("lets %s read exactly the stage's and its own rules' calendars, by name or ARN", (name, calendars) => {
    // Act
    const statements = calendarStatementsOf(name);
    // Assert
    expect(statements).toEqual([
      {
        Sid: 'ChangeCalendars',
        Effect: 'Allow',
        Action: 'ssm:GetCalendarState',
        Resource: calendars.map((c) => (c.startsWith('arn:') ? c : document(c))),
      },
    ]);
  });

  it('gives onRunbookResult none: it mutates nothing, so it never checks a calendar', () => {
    // Assert
    expect(calendarStatementsOf('onRunbookResult')).toEqual([]);
  });

  it('gives no role a calendar on a stage without calendars', () => {
    // Assert
    for (const { name } of registry) expect(calendarStatementsOf(name, makeConfig()), name).toEqual([]);
  });

  it('gives none to a function that cannot act on the stage (no runbook rule, retries off, anomaly stops off)', () => {
    // Arrange
    const quiet = makeConfig({
      changeCalendars: ['release-freeze'],
      alarmRules: [{ name: 'page-only', match: { alarmName: 'x-*' } }],
      backupFailure: { retry: false },
      costAnomaly: { stopIdle: { enabled: false } },
      cloudTrail: { detections: {} },
    });
    // Assert
    for (const name of ['onAlarm', 'onBackupFailure', 'onCostAnomaly', 'onCloudTrail']) {
      expect(calendarStatementsOf(name, quiet), name).toEqual([]);
    }
    expect(calendarStatementsOf('stopIdleInstances', quiet)).toHaveLength(1);
  });

  it('declares ssm:GetCalendarState exactly for the functions whose role holds it', async () => {
    // Act
    const declaring = [];
    for (const e of registry) {
      if ((await e.permissions(frozen)).includes('ssm:GetCalendarState')) declaring.push(e.name);
    }
    const onPlainStage = await Promise.all(registry.map((e) => e.permissions(makeConfig())));
    // Assert
    expect(declaring.sort()).toEqual(
      ['onAlarm', 'onBackupFailure', 'onCloudTrail', 'onCostAnomaly', 'stopIdleInstances'].sort(),
    );
    expect(onPlainStage.flat()).not.toContain('ssm:GetCalendarState');
  });
});
