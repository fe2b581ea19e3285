import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { copyOfRepository, editStages, type Run, sls, templateIn } from '../support/deployRehearsal.ts';
import { actionsOf, functions, roleOf } from '../support/packagedTemplate.ts';

/**
 * The packaged roles of a live stage that names change calendars: each role reads exactly the calendars
 * its function checks (the stage's and its own rules'), on their SSM documents, and holds exactly the
 * actions its function declares; the roles of a stage without calendars hold none (iam.package.test.ts).
 */

const SHARED = 'arn:aws:ssm:us-east-1:111122223333:document/org-freeze';
const document = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${name}`,
});

/** prod with calendars: the stage's two, and the backup retry (turned on) its own. */
const edited = {
  ...stages.prod,
  changeCalendars: ['release-freeze', SHARED],
  backupFailure: { completedWithIssues: 'record' as const, retry: true, changeCalendars: ['backup-freeze'] },
};

let run: Run;
let template: ReturnType<typeof templateIn>;

beforeAll(async () => {
  const copy = copyOfRepository();
  editStages(copy, (source) =>
    source
      .replace(
        'prod: {\n    dryRun: false,',
        `prod: {\n    dryRun: false,\n    changeCalendars: ['release-freeze', '${SHARED}'],`,
      )
      .replace(
        "backupFailure: { completedWithIssues: 'record' },",
        "backupFailure: { completedWithIssues: 'record', retry: true, changeCalendars: ['backup-freeze'] },",
      ),
  );
  run = await sls(copy, ['package', '--stage', 'prod', '--package', join(copy, '.serverless')]);
  template = templateIn(join(copy, '.serverless'));
}, 300_000);

describe('a live stage with change calendars, packaged', () => {
  it.each([
    ['onAlarm', [document('release-freeze'), SHARED]],
    ['stopIdleInstances', [document('release-freeze'), SHARED]],
    ['onBackupFailure', [document('release-freeze'), SHARED, document('backup-freeze')]],
    ['onCloudTrail', undefined],
    ['onCostAnomaly', undefined],
    ['onRunbookResult', undefined],
  ] as const)(
    'lets %s read exactly the calendars it checks, and none when it cannot act',
    (name, resources) => {
      // Arrange
      expect(run.code, run.out).toBe(0);
      // Act
      const reads = roleOf(template, name).filter((st) => actionsOf([st]).includes('ssm:GetCalendarState'));
      // Assert: prod remediates nothing and stops nothing for an anomaly, so those two never check one.
      expect(reads).toEqual(
        resources === undefined
          ? []
          : [
              {
                Sid: 'ChangeCalendars',
                Effect: 'Allow',
                Action: 'ssm:GetCalendarState',
                Resource: resources,
              },
            ],
      );
    },
  );

  it.each(functions)(
    'grants %s exactly the actions it declares there: none missing, none left over',
    async (name, entry) => {
      // Arrange
      const declared = await entry.permissions(parseStageConfig('prod', edited));
      // Act
      const granted = actionsOf(roleOf(template, name).filter((st) => st.Effect === 'Allow'));
      // Assert
      expect([...new Set(granted)].sort()).toEqual(declared);
    },
  );
});
