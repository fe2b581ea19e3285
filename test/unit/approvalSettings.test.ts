import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { registry } from '#functions/index.ts';

// Issue 20, approvals: the settings that ask for a person, bounded in the schema, and the grant they bring.
const rule = (approval?: unknown) => ({
  name: 'restart-web',
  match: { alarmName: 'web-*' },
  runbook: {
    document: 'AWS-RestartEC2Instance',
    parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' } },
  },
  ...(approval === undefined ? {} : { approval }),
});

describe('approval settings', () => {
  it('are off by default and expire after an hour', () => {
    // Act
    const stage = parseStageConfig('x', { dryRun: false, alarmRules: [rule()] });
    // Assert
    expect(stage.alarmRules[0]?.approval).toBeUndefined();
    expect(stage.approvals.expiryMinutes).toBe(60);
  });

  it('refuse an expiry beyond 24 hours, or under a minute, naming the field', () => {
    // Assert
    expect(() => parseStageConfig('x', { dryRun: false, approvals: { expiryMinutes: 1441 } })).toThrow(
      /approvals\.expiryMinutes/,
    );
    expect(() => parseStageConfig('x', { dryRun: false, approvals: { expiryMinutes: 0 } })).toThrow(
      /approvals\.expiryMinutes/,
    );
  });

  it("refuse an approval other than 'required', naming the rule", () => {
    // Assert
    expect(() => parseStageConfig('x', { dryRun: false, alarmRules: [rule('maybe')] })).toThrow(
      /alarmRules\.0\.approval \(alarm rule "restart-web"\)/,
    );
  });

  it("grant onAlarm's role the shared approval record only on a stage with a rule that asks for approval", () => {
    // Arrange
    const onAlarm = registry.find((e) => e.name === 'onAlarm');
    const without = parseStageConfig('x', { dryRun: false, alarmRules: [rule()] });
    const withApproval = parseStageConfig('x', { dryRun: false, alarmRules: [rule('required')] });
    // Act
    const kinds = (stage: typeof without) =>
      onAlarm?.deployment.sharedStateRecords?.(stage).map((g) => [g.kind, g.actions]);
    // Assert
    expect(kinds(without)).toEqual([['automation', ['dynamodb:PutItem', 'dynamodb:UpdateItem']]]);
    expect(kinds(withApproval)).toEqual([
      ['automation', ['dynamodb:PutItem', 'dynamodb:UpdateItem']],
      ['approval', ['dynamodb:PutItem']],
    ]);
  });
});
