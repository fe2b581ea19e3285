/**
 * A function invoked by hand (approveAction: `sls invoke -f approveAction`, or a chat custom action) has
 * no EventBridge rule: the stack, its alarms, the organization's bus and the member rules derive none,
 * and it is still deployed, watched and given its role like every other registered function.
 */
import { describe, expect, it } from 'vitest';
import { stageConfigOf } from '#config/stageConfig.ts';
import { organizationResources } from '#deploy/org/central.ts';
import { memberRulesTemplate, type OrganizationStageConfig } from '#deploy/org/member.ts';
import { selfAlarms } from '#deploy/stack/alarms.ts';
import { functionEntries, stackTarget } from '#deploy/stack/index.ts';
import { ruleSuffixes } from '#deploy/stack/patterns.ts';
import { RESERVED_CONCURRENCY_CAP, registry } from '#functions/index.ts';
import { approvalCommand } from '#shared/approval/command.ts';

const ROOT = process.cwd();
const target = { stage: 'dev', region: 'us-east-1', root: ROOT };

function entryNamed(name: string) {
  const entry = registry.find((e) => e.name === name);
  if (!entry) throw new Error(`no ${name} in the registry`);
  return entry;
}

describe('a function invoked by hand (approveAction)', () => {
  it("is registered, so the page's sls invoke command names a function the stack deploys", () => {
    // Act
    const command = approvalCommand(
      { stage: 'prod', region: 'eu-west-1' },
      `ap-${'0'.repeat(32)}`,
      'approve',
    );
    const named = /-f (\w+)/.exec(command)?.[1];
    // Assert
    expect(named).toBe('approveAction');
    expect(registry.map((e) => e.name)).toContain(named);
    expect(entryNamed('approveAction').deployment.trigger).toEqual({ manual: expect.any(String) });
  });

  it('is deployed with no event rule, no Lambda retry (it is invoked synchronously) and a bounded reservation', () => {
    // Act
    const entries = functionEntries(target, registry, { idleStopSchedule: 'rate(1 hour)' });
    const approve = entries.approveAction as Record<string, unknown>;
    // Assert
    expect(approve.name).toBe('ops-autopilot-dev-approveAction');
    expect(approve.events).toEqual([]);
    expect(approve.maximumRetryAttempts).toBe(0);
    expect(approve.reservedConcurrency).toBeGreaterThan(0);
    expect(ruleSuffixes(entryNamed('approveAction').deployment, ROOT)).toEqual([]);
    const reserved = registry.reduce((n, e) => n + e.deployment.reservedConcurrency, 0);
    expect(reserved).toBeLessThanOrEqual(RESERVED_CONCURRENCY_CAP);
  });

  it('is watched for errors and throttles, with no rule failed-invocations alarm', () => {
    // Act
    const alarms = selfAlarms(target, entryNamed('approveAction'), 'ApproveActionLambdaFunction');
    // Assert
    expect(Object.keys(alarms).sort()).toEqual(['ApproveActionErrorsAlarm', 'ApproveActionThrottlesAlarm']);
    expect(alarms.ApproveActionErrorsAlarm?.Properties.AlarmName).toBe(
      'ops-autopilot-dev-approveAction-errors',
    );
  });

  it("has no rule on an organization's bus nor in the member accounts' rules", () => {
    // Arrange
    const config = stageConfigOf('org') as OrganizationStageConfig;
    const orgTarget = stackTarget('org', config.organization.homeRegion, ROOT, config);
    const lambdaIds = new Map(registry.map(({ name }) => [name, `${name}LambdaFunction`]));
    // Act
    const central = organizationResources(orgTarget, registry, config, lambdaIds);
    const members = memberRulesTemplate(orgTarget, registry, config);
    // Assert
    const targetsApprove = (r: { Type: string; Properties: Record<string, unknown> }) =>
      r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties).includes('approveAction');
    expect(Object.values(central).filter(targetsApprove)).toEqual([]);
    const forwardsFor = Object.values(members.Resources).map((r) => String(r.Properties.Description));
    expect(forwardsFor.filter((d) => d.includes('approveAction'))).toEqual([]);
    expect(forwardsFor.some((d) => d.includes('onAlarm'))).toBe(true);
    // The other functions' rules are still there: the bus is not empty by accident.
    expect(Object.values(central).some((r) => r.Type === 'AWS::Events::Rule')).toBe(true);
  });
});
