import { describe, expect, it } from 'vitest';
import { selfAlarms } from '#deploy/stack/alarms.ts';
import { dashboard } from '#deploy/stack/dashboard.ts';
import { FORWARD_CONDITION, globalEventsForwarding } from '#deploy/stack/forwarding.ts';
import { addFunctionResources } from '#deploy/stack/index.ts';
import type { CfnResource, Resources } from '#deploy/stack/names.ts';
import { registry } from '#functions/index.ts';
import { makeConfig } from '../support/config.ts';

const target = { stage: 'dev', region: 'us-east-1', root: process.cwd() };
const lambdaIds = new Map(registry.map(({ name }) => [name, `${name}LambdaFunction`]));

function entryNamed(name: string) {
  const entry = registry.find((e) => e.name === name);
  if (!entry) throw new Error(`no ${name} in the registry`);
  return entry;
}

const alarm = (condition?: string): CfnResource => ({
  Type: 'AWS::CloudWatch::Alarm',
  ...(condition ? { Condition: condition } : {}),
  Properties: {},
});

describe("a function's alarms on itself", () => {
  it('page on errors only when they repeat, saying so, and on every throttle', () => {
    // Act
    const alarms = selfAlarms(target, entryNamed('onAlarm'), 'OnAlarmLambdaFunction');
    // Assert
    const errors = alarms.OnAlarmErrorsAlarm?.Properties;
    expect(errors?.AlarmDescription).toBe(
      'onAlarm failed in 2 of the last 3 five-minute periods (a single error does not page)',
    );
    expect([errors?.EvaluationPeriods, errors?.DatapointsToAlarm]).toEqual([3, 2]);
    expect(alarms.OnAlarmThrottlesAlarm?.Properties.EvaluationPeriods).toBe(1);
    expect(errors?.AlarmActions).toEqual([{ Ref: 'PageTopic' }]);
    expect(errors?.OKActions).toEqual([{ Ref: 'PageTopic' }]);
  });

  it("watch each of its rules' failed invocations", () => {
    // Act
    const alarms = selfAlarms(target, entryNamed('onAlarm'), 'OnAlarmLambdaFunction');
    // Assert
    expect(alarms.OnAlarmRuleFailedInvocationsAlarm?.Properties).toMatchObject({
      AlarmName: 'ops-autopilot-dev-on-alarm-rule-failed-invocations',
      Dimensions: [{ Name: 'RuleName', Value: 'ops-autopilot-dev-on-alarm' }],
    });
  });
});

describe('the global-events forward rules', () => {
  it("exist only under the forwarding condition, each with its failed-invocations alarm, onCloudTrail's events alone", () => {
    // Act
    const { resources, suffixes } = globalEventsForwarding(target, registry);
    // Assert
    expect(suffixes[0]).toBe('global-events-forward');
    for (const resource of Object.values(resources)) expect(resource.Condition).toBe(FORWARD_CONDITION);
    const rule = resources.GlobalEventsForwardRule?.Properties as { EventPattern: { source: string[] } };
    expect(rule.EventPattern.source).toEqual(['aws.iam', 'aws.sts', 'aws.signin', 'aws.organizations']);
    expect(resources.GlobalEventsForwardRuleFailedInvocationsAlarm?.Type).toBe('AWS::CloudWatch::Alarm');
  });
});

describe('the dashboard', () => {
  it('shows the forwarding alarms only where the stack forwards global events', () => {
    // Act
    const board = dashboard(
      target,
      registry,
      lambdaIds,
      [
        ['A', alarm()],
        ['F', alarm(FORWARD_CONDITION)],
      ],
      ['global-events-forward'],
    );
    // Assert
    const [condition, withForwarding, without] = (
      board.Properties.DashboardBody as {
        'Fn::If': [string, { 'Fn::Sub': [string, object] }, { 'Fn::Sub': [string, object] }];
      }
    )['Fn::If'];
    expect(condition).toBe(FORWARD_CONDITION);
    expect(withForwarding['Fn::Sub'][0]).toContain(`\${F}`);
    expect(without['Fn::Sub'][0]).not.toContain(`\${F}`);
    expect(without['Fn::Sub'][0]).toContain(`\${A}`);
  });

  it('refuses an alarm under a condition it cannot show, naming it', () => {
    // Act
    const build = () => dashboard(target, registry, lambdaIds, [['Odd', alarm('HasPager')]], []);
    // Assert
    expect(build).toThrow('ops-autopilot: the dashboard cannot show Odd (condition HasPager)');
  });
});

describe('the resources added to the compiled template', () => {
  it("give every function its role and alarms, and the dashboard every alarm, serverless.yml's included", () => {
    // Arrange
    const resources: Resources = Object.fromEntries(
      registry.map(({ name }) => [
        `${name}LambdaFunction`,
        { Type: 'AWS::Lambda::Function', Properties: {} },
      ]),
    );
    const later: Resources = { FailureQueueAlarm: alarm() };
    // Act
    addFunctionResources(target, registry, makeConfig(), resources, lambdaIds, later);
    // Assert
    for (const { name } of registry) {
      const pascal = name[0]?.toUpperCase() + name.slice(1);
      expect(resources[`${pascal}Role`]?.Type, name).toBe('AWS::IAM::Role');
      expect(resources[`${pascal}ErrorsAlarm`]?.Type, name).toBe('AWS::CloudWatch::Alarm');
    }
    expect(JSON.stringify(resources.Dashboard)).toContain(`\${FailureQueueAlarm}`);
  });

  it('refuses a registered function the template does not hold', () => {
    // Act
    const add = () => addFunctionResources(target, registry, makeConfig(), {}, lambdaIds);
    // Assert
    expect(add).toThrow('ops-autopilot: onAlarm is not in the template');
  });
});
