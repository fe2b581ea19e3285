/**
 * approveAction's role: the decision on the shared approval record, and exactly what the owning
 * function's role grants the executors an approved action may run, on a stage where that owner asks
 * for approval; nothing of them where none does.
 */
import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { actingStatements, type OrganizationStageConfig } from '#deploy/org/member.ts';
import { functionStatements } from '#deploy/stack/roles.ts';
import { approverDeployment } from '#functions/approveAction/deployment.ts';
import { type IamStatement, type RegistryEntry, registry } from '#functions/index.ts';
import { APPROVABLE_KINDS } from '#shared/approval/approvableKinds.ts';
import { approvableExecutors } from '#shared/executors/approval.ts';

function entryNamed(name: string): RegistryEntry {
  const entry = registry.find((e) => e.name === name);
  if (!entry) throw new Error(`no ${name} in the registry`);
  return entry;
}
const approveAction = entryNamed('approveAction');
const onAlarm = entryNamed('onAlarm');

/** A stage as config/stages.ts holds it, with every runbook rule of its asking for approval or not. */
function stageWithApproval(stage: 'dev' | 'prod' | 'org', approval: boolean) {
  const raw = stages[stage];
  if (!raw) throw new Error(`no stage ${stage}`);
  const alarmRules = (raw.alarmRules ?? []).map(({ approval: _was, ...rule }) =>
    approval && rule.runbook ? { ...rule, approval: 'required' as const } : rule,
  );
  return parseStageConfig(stage, { ...raw, alarmRules });
}

/** The actions statements allow or deny, in order (IamStatement may deny, unlike the runtime's). */
const actionsOf = (statements: readonly IamStatement[]): string[] =>
  statements.flatMap(({ Action }) => [Action].flat());
const runbookStart = (statements: readonly IamStatement[]) =>
  statements.filter((st) => actionsOf([st]).includes('ssm:StartAutomationExecution'));
const withoutSid = ({ Sid: _sid, ...rest }: IamStatement) => rest;

describe("approveAction's role", () => {
  it('knows the approvable kinds the executors module runs (shared/executors/approval.ts)', () => {
    // Assert: a kind added to approvableExecutors and not here would get no grant in the role.
    expect([...APPROVABLE_KINDS].sort()).toEqual(Object.keys(approvableExecutors).sort());
  });

  it("grants, where an alarm rule asks for approval, exactly onAlarm's runbook-start statements, named as onAlarm's", () => {
    // Arrange
    const stage = stageWithApproval('dev', true);
    const owner = onAlarm.deployment.executors['ssm.start-automation']?.statements(stage);
    if (owner === undefined || owner === 'off') throw new Error('onAlarm starts no runbook on dev');
    // Act
    const statements = functionStatements('dev', approveAction, stage);
    // Assert
    const granted = statements.filter((st) => st.Sid.startsWith('OnAlarm'));
    expect(granted.map(withoutSid)).toEqual(owner.map(withoutSid));
    expect(granted.map((st) => st.Sid)).toEqual(owner.map((st) => `OnAlarm${st.Sid}`));
    expect(approveAction.deployment.environment).toEqual(onAlarm.deployment.environment);
  });

  it("writes onAlarm's records as onAlarm (its start claim, incident, rate guard) and the shared records it needs, nothing more", () => {
    // Arrange
    const stage = stageWithApproval('dev', true);
    // Act
    const statements = functionStatements('dev', approveAction, stage);
    // Assert
    const conditionOf = (sid: string) =>
      (statements.find((st) => st.Sid === sid) as (IamStatement & { Condition?: unknown }) | undefined)
        ?.Condition;
    expect(conditionOf('StateTableAsOnAlarm')).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-dev-onAlarm#*'] },
    });
    expect(actionsOf(statements.filter((st) => st.Sid === 'StateTableAsOnAlarm'))).toContain(
      'dynamodb:ConditionCheckItem',
    );
    expect(statements.find((st) => st.Sid === 'SharedStateApproval')?.Action).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
    expect(statements.find((st) => st.Sid === 'SharedStateAutomation')?.Action).toEqual([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(statements.filter((st) => st.Sid.startsWith('StateTableAs')).map((st) => st.Sid)).toEqual([
      'StateTableAsOnAlarm',
    ]);
  });

  it("may start no runbook and touch no other function's records where nothing asks for approval", () => {
    // Arrange
    const stage = stageWithApproval('dev', false);
    // Act
    const statements = functionStatements('dev', approveAction, stage);
    // Assert
    expect(runbookStart(statements)).toEqual([]);
    expect(actionsOf(statements)).not.toContain('iam:PassRole');
    expect(statements.filter((st) => st.Sid.startsWith('StateTableAs'))).toEqual([]);
    expect(statements.filter((st) => st.Sid.startsWith('SharedState')).map((st) => st.Sid)).toEqual([
      'SharedStateApproval',
    ]);
  });

  it.each([
    ['dev', true],
    ['dev', false],
    ['prod', true],
    ['prod', false],
    ['org', true],
  ] as const)('holds on %s (approval asked: %s) exactly the actions it declares', async (name, approval) => {
    // Arrange
    const stage = stageWithApproval(name, approval);
    // Act
    const granted = actionsOf(
      functionStatements(name, approveAction, stage).filter((s) => s.Effect === 'Allow'),
    );
    const declared = await approveAction.permissions(stage);
    // Assert
    expect([...new Set(granted)].sort()).toEqual(declared);
    expect(declared.includes('ssm:StartAutomationExecution')).toBe(approval);
  });

  it("lends the member accounts onAlarm's runbook start for an approved action, in every listed region", () => {
    // Arrange
    const stage = stageWithApproval('org', true) as OrganizationStageConfig;
    // Act
    const acting = actingStatements(approveAction, stage);
    // Assert
    expect(runbookStart(acting).map(withoutSid)).toEqual(
      runbookStart(actingStatements(onAlarm, stage)).map(withoutSid),
    );
    expect(actionsOf(acting)).toContain('tag:GetResources');
  });
});

describe("approveAction's shared records, from several owners", () => {
  it('takes a record two owners share once, with the actions of both (the idle stoppers share one stop budget)', () => {
    // Arrange: two owners of one approvable kind, both on the account's stop budget.
    const stage = stageWithApproval('dev', true);
    const owner = (actions: string[]) => ({
      ...onAlarm.deployment,
      sharedStateRecords: () => [
        { kind: 'approval' as const, actions: ['dynamodb:PutItem'] },
        { kind: 'stop-budget' as const, actions },
      ],
    });
    const deployment = approverDeployment({
      first: owner(['dynamodb:GetItem']),
      second: owner(['dynamodb:GetItem', 'dynamodb:PutItem']),
    });
    // Act
    const records = deployment.sharedStateRecords?.(stage) ?? [];
    // Assert
    expect(records).toEqual([
      { kind: 'approval', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
      { kind: 'stop-budget', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
    ]);
  });
});
