/** The packaged roles: each function's least privilege, the shared state records, the runbook role. */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { registry } from '#functions/index.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';
import {
  actionsOf,
  functions,
  KILL_SWITCH_PARAMETER,
  RESTART_DEFINITION,
  roleOf,
  roleStatements,
  SHARED_STOP_BUDGET,
  type Statement,
} from '../support/packagedTemplate.ts';

let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('dev');
}, 300_000);

describe('the packaged template: roles', () => {
  it("limits each function's state-table access to the records it owns (keys starting with its name)", () => {
    // Arrange
    const functions = Object.values(packaged.template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && typeof r.Properties.FunctionName === 'string',
    );
    // Assert
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const fn of functions) {
      const name = String(fn.Properties.FunctionName);
      const statements = roleOf(packaged.template, name.split('-').pop() as string);
      // DescribeTable reads a table's metadata, no records (onBackupFailure: does a backed-up table
      // still exist?): its statement holds nothing else, so every record access is still held below.
      const metadataOnly = (st: Statement) => actionsOf([st]).every((a) => a === 'dynamodb:DescribeTable');
      const dynamo = statements.filter(
        (st) => actionsOf([st]).some((a) => a.startsWith('dynamodb:')) && !metadataOnly(st),
      );
      expect(dynamo.length, name).toBeGreaterThan(0);
      // Its own records, or records shared by name: the stop budget (exact key), the runbook
      // execution records and the pending approvals (their prefix); the next tests hold who may
      // touch them, and what approveAction may do as the function that planned an approved action.
      const sharedByName = ['SharedStateAutomation', 'SharedStateApproval'];
      for (const st of dynamo.filter((d) => !sharedByName.includes(d.Sid ?? ''))) {
        const condition = (st as Statement & { Condition?: unknown }).Condition;
        expect(condition, `${name} ${st.Sid}`).toEqual(
          st.Sid === 'SharedState'
            ? { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARED_STOP_BUDGET] } }
            : { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${name}#*`] } },
        );
      }
    }
  });

  it('shares the runbook execution records: onAlarm writes them, onRunbookResult reads and updates them, on exactly their prefix, no other function', () => {
    // Arrange
    const shared = (fn: string) =>
      roleOf(packaged.template, fn).filter((st) =>
        JSON.stringify((st as Statement & { Condition?: unknown }).Condition ?? {}).includes(
          '#shared#automation#',
        ),
      );
    const condition = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-dev#shared#automation#*'] },
    };
    // Assert
    expect(shared('onAlarm')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: condition,
      }),
    ]);
    expect(shared('onRunbookResult')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: condition,
      }),
    ]);
    for (const [name] of functions.filter(([n]) => n !== 'onAlarm' && n !== 'onRunbookResult')) {
      expect(shared(name), name).toEqual([]);
    }
  });

  it("lets approveAction decide pending approvals and, on a stage whose rule asks for approval (prod), start that rule's runbooks as onAlarm, on onAlarm's records only", async () => {
    // Arrange
    const prod = (await packagedOnce('prod')).template;
    const conditionOf = (fn: string, sid: string) =>
      (roleOf(prod, fn).find((st) => st.Sid === sid) as (Statement & { Condition?: unknown }) | undefined)
        ?.Condition;
    const approvals = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-prod#shared#approval#*'] },
    };
    const startsOf = (fn: string) =>
      roleOf(prod, fn)
        .filter((st) => actionsOf([st]).includes('ssm:StartAutomationExecution'))
        .map((st) => st.Resource);
    // Assert
    expect(conditionOf('onAlarm', 'SharedStateApproval')).toEqual(approvals);
    expect(conditionOf('approveAction', 'SharedStateApproval')).toEqual(approvals);
    expect(conditionOf('approveAction', 'StateTableAsOnAlarm')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-prod-onAlarm#*'] },
    });
    expect(startsOf('approveAction')).toEqual(startsOf('onAlarm'));
    expect(startsOf('approveAction')).not.toEqual([]);
    // On dev no rule asks for approval: approveAction may decide, and run nothing.
    expect(
      roleOf(packaged.template, 'approveAction').filter((st) =>
        actionsOf([st]).includes('ssm:StartAutomationExecution'),
      ),
    ).toEqual([]);
  }, 300_000);

  it('gives stopIdleInstances and onCostAnomaly one stop budget: exactly its shared key, read and put, no other function', () => {
    // Arrange
    const sharedOf = (fn: string) =>
      roleOf(packaged.template, fn).filter((st) => st.Sid === 'SharedState') as (Statement & {
        Condition?: unknown;
      })[];
    // Assert
    for (const fn of ['stopIdleInstances', 'onCostAnomaly']) {
      const [shared, ...more] = sharedOf(fn);
      expect(more, fn).toEqual([]);
      expect(shared?.Action, fn).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(shared?.Resource, fn).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
      expect(shared?.Condition, fn).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARED_STOP_BUDGET] },
      });
    }
    for (const { name } of registry.filter((e) => !['stopIdleInstances', 'onCostAnomaly'].includes(e.name))) {
      expect(sharedOf(name), name).toEqual([]);
    }
  });

  it('lets onCostAnomaly stop and tag only opted-in instances when the stage turns stopping on', () => {
    // Arrange
    const allowed = roleOf(packaged.template, 'onCostAnomaly').filter((st) => st.Effect === 'Allow');
    const conditionOf = (action: string) =>
      (allowed.find((st) => actionsOf([st]).includes(action)) as Statement & { Condition?: unknown })
        ?.Condition;
    // Assert
    expect(stages.dev?.costAnomaly?.stopIdle?.enabled).toBe(true);
    expect(conditionOf('ec2:StopInstances')).toEqual({
      StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' },
    });
    expect(conditionOf('ec2:CreateTags')).toEqual({
      StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' },
    });
  });

  it.each(functions)("lets %s read the stage's kill switch parameter, and no other parameter", (name) => {
    // Arrange
    const statements = roleOf(packaged.template, name).filter((st) =>
      actionsOf([st]).some((a) => a.startsWith('ssm:GetParameter')),
    );
    // Assert
    expect(statements).toEqual([
      {
        Sid: 'KillSwitch',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: {
          'Fn::Sub': KILL_SWITCH_PARAMETER,
        },
      },
    ]);
  });

  it('gives each function a role of its own with no wildcard action', () => {
    // Arrange
    const resources = packaged.template.Resources;
    const roles = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => (r.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    // Assert
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) {
      for (const action of actionsOf(roleStatements(packaged.template, role))) {
        expect(action).not.toMatch(/(^\*$|:\*$)/);
      }
    }
  });

  /** Every stage of config/stages.ts with each function: each stage grants and declares its own. */
  const stagesAndFunctions = Object.keys(stages).flatMap((stage) =>
    functions.map(([name, entry]) => [stage, name, entry] as const),
  );

  it.each(stagesAndFunctions)(
    'grants on %s %s exactly the actions it declares (runtime, gather, executors on): none missing, none left over',
    async (stage, name, entry) => {
      // Arrange
      const template = (await packagedOnce(stage)).template;
      const declared = await entry.permissions(parseStageConfig(stage, stages[stage]));
      // Act
      const granted = actionsOf(roleOf(template, name).filter((st) => st.Effect === 'Allow'));
      // Assert
      expect([...new Set(granted)].sort()).toEqual(declared);
    },
    300_000,
  );

  it('lets onAlarm start only the runbooks the stage configures, as the runbook role alone, and no other function start any', () => {
    // Arrange
    const startersOf = (fn: string) =>
      roleOf(packaged.template, fn).filter((s) => actionsOf([s]).includes('ssm:StartAutomationExecution'));
    const onAlarm = roleOf(packaged.template, 'onAlarm');
    const pass = onAlarm.find((s) => actionsOf([s]).includes('iam:PassRole'));
    // Assert
    expect(startersOf('onAlarm').map((s) => s.Resource)).toEqual([[{ 'Fn::Sub': RESTART_DEFINITION }]]);
    expect(pass?.Resource).toEqual({ 'Fn::GetAtt': ['RunbookAutomationRole', 'Arn'] });
    for (const { name } of registry.filter((e) => e.name !== 'onAlarm')) {
      expect(startersOf(name), name).toEqual([]);
    }
  });

  it('lets stopIdleInstances stop and tag only instances in scope, and mutate nothing else in EC2', () => {
    // Arrange
    const statements = roleOf(packaged.template, 'stopIdleInstances');
    const allowed = statements.filter((st) => st.Effect === 'Allow');
    const ec2Actions = actionsOf(allowed).filter((a) => a.startsWith('ec2:'));
    const stop = allowed.find((st) => actionsOf([st]).includes('ec2:StopInstances')) as Statement & {
      Condition?: unknown;
    };
    const tagDeny = statements.find(
      (st) => st.Effect === 'Deny' && actionsOf([st]).includes('ec2:CreateTags'),
    );
    // Assert
    expect(ec2Actions.sort()).toEqual(['ec2:CreateTags', 'ec2:DescribeInstances', 'ec2:StopInstances']);
    expect(stop.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' } });
    const tag = allowed.find((st) => actionsOf([st]).includes('ec2:CreateTags')) as Statement & {
      Condition?: unknown;
    };
    expect(tag.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' } });
    expect(JSON.stringify(tagDeny)).toContain('ops:stop-reason');
    expect(actionsOf(allowed)).not.toContain('ssm:StartAutomationExecution');
  });

  it('lets the runbooks stop and start only instances carrying the opt-in tag, and onAlarm only read tags', () => {
    // Arrange
    const runbookRole = roleStatements(packaged.template, 'RunbookAutomationRole').filter(
      (st) => st.Effect === 'Allow',
    );
    const mutating = runbookRole.filter((st) =>
      actionsOf([st]).some((a) => a === 'ec2:StopInstances' || a === 'ec2:StartInstances'),
    ) as (Statement & { Condition?: unknown })[];
    const onAlarmActions = actionsOf(roleOf(packaged.template, 'onAlarm'));
    // Assert
    expect(mutating).toHaveLength(1);
    expect(mutating[0]?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/ops:auto-remediate': 'true' },
    });
    // The target's tags come from the Tagging API: onAlarm itself has no EC2 action at all.
    expect(onAlarmActions.filter((a) => a.startsWith('ec2:'))).toEqual([]);
    expect(onAlarmActions.filter((a) => a.startsWith('tag:'))).toEqual(['tag:GetResources']);
  });

  it("lets onBackupFailure start backups only into this account's vaults, passing roles only to AWS Backup", () => {
    // Arrange
    const allowed = roleOf(packaged.template, 'onBackupFailure').filter((st) => st.Effect === 'Allow');
    const find = (action: string) =>
      allowed.find((st) => actionsOf([st]).includes(action)) as Statement & { Condition?: unknown };
    // Assert
    expect(find('backup:StartBackupJob').Resource).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
      'Fn::Sub': 'arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:*',
    });
    expect(find('iam:PassRole').Resource).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
      'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*',
    });
    expect(find('iam:PassRole').Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' },
    });
  });
});
