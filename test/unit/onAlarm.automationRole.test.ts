import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { automationRoleStatements, configuredRunbookDocuments } from '#functions/onAlarm/deployment.ts';

const restart = {
  name: 'restart-unresponsive-instance',
  match: { namespace: 'AWS/EC2', metricName: 'StatusCheckFailed_Instance' },
  runbook: {
    document: 'AWS-RestartEC2Instance',
    parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' as const } },
  },
};
const rebootDatabase = {
  name: 'reboot-db',
  match: { namespace: 'AWS/RDS' },
  runbook: {
    document: 'AWS-RebootRdsInstance',
    parameters: { InstanceId: { fromDimension: 'DBInstanceIdentifier', format: 'db-instance-id' as const } },
    scope: 'none' as const,
    permissions: [{ actions: ['rds:RebootDBInstance'] }],
  },
};
const actions = (stage: unknown) =>
  automationRoleStatements(parseStageConfig('t', stage))
    .flatMap((s) => [s.Action].flat())
    .sort();

describe("the runbook automation role's statements", () => {
  it("holds AWS-RestartEC2Instance's built-in permissions and each other rule's declared ones", () => {
    // Act
    const granted = actions({ dryRun: true, alarmRules: [restart, rebootDatabase] });
    // Assert
    expect(granted).toEqual([
      'ec2:DescribeInstanceStatus',
      'ec2:DescribeInstances',
      'ec2:StartInstances',
      'ec2:StopInstances',
      'rds:RebootDBInstance',
    ]);
  });

  it('holds nothing for a stage without runbooks, and nothing for a document that declares none', () => {
    // Arrange
    const undeclared = { ...rebootDatabase, runbook: { ...rebootDatabase.runbook, permissions: undefined } };
    // Act + Assert
    expect(
      actions({ dryRun: true, alarmRules: [{ name: 'page', match: { namespace: 'AWS/EC2' } }] }),
    ).toEqual([]);
    expect(actions({ dryRun: true, alarmRules: [undeclared] })).toEqual([]);
  });

  it("replaces AWS-RestartEC2Instance's built-in permissions when its rule declares its own", () => {
    // Arrange
    const narrowed = {
      ...restart,
      runbook: { ...restart.runbook, permissions: [{ actions: ['ec2:RebootInstances'], resources: ['*'] }] },
    };
    // Act
    const granted = actions({ dryRun: true, alarmRules: [narrowed] });
    // Assert
    expect(granted).toEqual(['ec2:RebootInstances']);
  });

  it('refuses a wildcard action, naming the rule', () => {
    // Arrange
    const wide = {
      ...rebootDatabase,
      runbook: { ...rebootDatabase.runbook, permissions: [{ actions: ['*'] }] },
    };
    // Act + Assert
    expect(() => parseStageConfig('t', { dryRun: true, alarmRules: [wide] })).toThrow(
      /alarmRules\.0\.runbook\.permissions\.0\.actions\.0 \(alarm rule "reboot-db"\): an IAM action such as ec2:RebootInstances \(got "\*"\)/,
    );
  });

  it('lists each configured document once, for the deploy-time check', () => {
    // Act
    const documents = configuredRunbookDocuments(
      parseStageConfig('t', {
        dryRun: true,
        alarmRules: [restart, rebootDatabase, { ...restart, name: 'again' }],
      }),
    );
    // Assert
    expect(documents).toEqual(['AWS-RestartEC2Instance', 'AWS-RebootRdsInstance']);
  });
});
