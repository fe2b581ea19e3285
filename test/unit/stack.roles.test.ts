import { describe, expect, it } from 'vitest';
import { functionRole, functionStatements } from '#deploy/stack/roles.ts';
import type { Deployment, RegistryEntry } from '#functions/index.ts';
import { registry } from '#functions/index.ts';
import { RUNTIME_PERMISSIONS } from '#shared/runtime/permissions.ts';
import { actionsOf, runtimeStatements } from '#shared/runtime/statements.ts';
import { makeConfig } from '../support/config.ts';

const target = { stage: 'dev', region: 'eu-west-1', root: process.cwd() };
const stageConfig = makeConfig();

/** A registry entry holding only what the role derivation reads. */
function entryWith(deployment: Partial<Deployment>): RegistryEntry {
  const onAlarm = registry.find((e) => e.name === 'onAlarm');
  if (!onAlarm) throw new Error('no onAlarm in the registry');
  return {
    ...onAlarm,
    name: 'onSomething',
    deployment: {
      ...onAlarm.deployment,
      roleName: 'something',
      stateTableActions: undefined,
      sharedStateRecords: undefined,
      statements: () => [],
      ...deployment,
    },
  };
}

type Statement = ReturnType<typeof functionStatements>[number];
const bySid = (statements: Statement[], sid: string) => statements.find((s) => s.Sid === sid);

describe('a function role', () => {
  it('is named after the stage, the function and the region, and only Lambda may assume it', () => {
    // Act
    const role = functionRole(target, entryWith({}), stageConfig);
    // Assert
    expect(role.Properties.RoleName).toBe('ops-autopilot-dev-something-eu-west-1');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('lambda.amazonaws.com');
  });

  it("holds the runtime's statements first, then the deployment's own", () => {
    // Arrange
    const own = { Sid: 'Own', Effect: 'Allow' as const, Action: 'ec2:DescribeInstances', Resource: '*' };
    // Act
    const statements = functionStatements('dev', entryWith({ statements: () => [own] }), stageConfig);
    // Assert
    expect(statements.map((s) => s.Sid)).toEqual([
      'Logs',
      'Traces',
      'StateTable',
      'Page',
      'PageKey',
      'FailureQueue',
      'KillSwitch',
      'Own',
    ]);
  });

  it('may touch only its own records in the state table, plus the actions its deployment adds', () => {
    // Act
    const statements = functionStatements(
      'dev',
      entryWith({ stateTableActions: ['dynamodb:ConditionCheckItem'] }),
      stageConfig,
    );
    // Assert
    expect(bySid(statements, 'StateTable')?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-dev-onSomething#*'] },
    });
    expect(bySid(statements, 'StateTable')?.Action).toContain('dynamodb:ConditionCheckItem');
  });

  it('is granted a prefix shared record on exactly its prefix, with only the actions declared', () => {
    // Act
    const statements = functionStatements(
      'prod',
      entryWith({ sharedStateRecords: () => [{ kind: 'automation', actions: ['dynamodb:GetItem'] }] }),
      stageConfig,
    );
    // Assert
    expect(bySid(statements, 'SharedStateAutomation')).toEqual({
      Sid: 'SharedStateAutomation',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem'],
      Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-prod#shared#automation#*'] },
      },
    });
    expect(bySid(statements, 'SharedState')).toBeUndefined();
  });

  it('is granted an exact-key shared record on that key alone, never a prefix of it', () => {
    // Act
    const statements = functionStatements(
      'prod',
      entryWith({
        sharedStateRecords: () => [
          { kind: 'stop-budget', actions: ['dynamodb:GetItem', 'dynamodb:PutItem'] },
        ],
      }),
      stageConfig,
    );
    // Assert
    expect(bySid(statements, 'SharedState')?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ops-autopilot-prod#shared#stop-budget'] },
    });
    expect(bySid(statements, 'SharedState')?.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('is granted no shared record on a stage where its deployment declares none', () => {
    // Arrange
    const onCostAnomaly = registry.find((e) => e.name === 'onCostAnomaly');
    if (!onCostAnomaly) throw new Error('no onCostAnomaly in the registry');
    const off = makeConfig({
      costAnomaly: {
        ...stageConfig.costAnomaly,
        stopIdle: { ...stageConfig.costAnomaly.stopIdle, enabled: false },
      },
    });
    // Act
    const statements = functionStatements('dev', onCostAnomaly, off);
    // Assert
    expect(statements.filter((s) => s.Sid.startsWith('SharedState'))).toEqual([]);
  });
});

describe("the runtime's permissions", () => {
  it("are exactly the actions of the runtime's statements, on any stage", () => {
    // Act
    const actions = actionsOf(runtimeStatements('prod', 'onAlarm'));
    // Assert
    expect([...RUNTIME_PERMISSIONS].sort()).toEqual([...actions].sort());
    expect(RUNTIME_PERMISSIONS).toContain('ssm:GetParameter');
  });
});
