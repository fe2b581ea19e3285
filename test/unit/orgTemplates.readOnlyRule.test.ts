/**
 * onCloudTrail's read-only rule on an organization's stage: when the stage turns it on, every member
 * forwards the read-only calls it watches (in the rule state that receives them) and the organization's
 * bus hands them to onCloudTrail; when it is off, neither has the rule.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStageConfig, stageConfigOf } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { organizationResources } from '#deploy/org/central.ts';
import { memberRulesTemplate, type OrganizationStageConfig } from '#deploy/org/member.ts';
import { stackTarget } from '#deploy/stack/index.ts';
import { READ_ONLY_RULE_STATE, readOnlyRule } from '#deploy/stack/readOnlyRule.ts';
import { registry } from '#functions/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const lambdaIds = new Map(registry.map(({ name }) => [name, `${name}LambdaFunction`]));

/** The example organization stage, with the read-only rule on or off. */
function orgStage(readOnly: boolean): OrganizationStageConfig {
  const raw = stages.org;
  if (raw === undefined) throw new Error('no stage org in config/stages.ts');
  return parseStageConfig('org', {
    ...raw,
    cloudTrail: { ...raw.cloudTrail, readOnlyRule: { enabled: readOnly } },
  }) as OrganizationStageConfig;
}
const targetOf = (stage: OrganizationStageConfig) =>
  stackTarget('org', stage.organization.homeRegion, ROOT, stage);
const rulesIn = (resources: Record<string, { Type: string; Properties: Record<string, unknown> }>) =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::Events::Rule')
    .map((r) => r.Properties);

describe("onCloudTrail's read-only rule on an organization's stage", () => {
  it('is forwarded from every member, in the state that receives read-only calls, with the central pattern', () => {
    // Arrange
    const stage = orgStage(true);
    const target = targetOf(stage);
    const central = readOnlyRule(target, registry, stage, 'onCloudTrailLambdaFunction');
    const centralPattern = Object.values(central).find((r) => r.Type === 'AWS::Events::Rule')?.Properties
      .EventPattern;
    // Act
    const forwarded = rulesIn(memberRulesTemplate(target, registry, stage).Resources).filter(
      (r) => r.State === READ_ONLY_RULE_STATE,
    );
    // Assert
    expect(centralPattern).toBeDefined();
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({
      Name: 'ops-autopilot-org-forward-on-cloudtrail-read-only',
      EventBusName: 'default',
      EventPattern: centralPattern,
      Targets: [{ Id: 'org-bus' }],
    });
  });

  it("is taken from the organization's bus by onCloudTrail, in that state, with its invoke permission", () => {
    // Arrange
    const stage = orgStage(true);
    // Act
    const resources = organizationResources(targetOf(stage), registry, stage, lambdaIds);
    // Assert
    const onBus = Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.State === READ_ONLY_RULE_STATE,
    );
    expect(onBus.map(([, r]) => r.Properties.Name)).toEqual([
      'ops-autopilot-org-org-on-cloudtrail-read-only',
    ]);
    const [ruleId, rule] = onBus[0] ?? ['', { Type: '', Properties: {} as Record<string, unknown> }];
    expect(rule.Properties.EventBusName).toEqual({ Ref: 'OrgEventBus' });
    expect(rule.Properties.Targets).toMatchObject([
      { Arn: { 'Fn::GetAtt': ['onCloudTrailLambdaFunction', 'Arn'] } },
    ]);
    expect(resources[`${ruleId}InvokePermission`]?.Properties.SourceArn).toEqual({
      'Fn::GetAtt': [ruleId, 'Arn'],
    });
  });

  it('is neither forwarded nor on the bus when the stage leaves it off (the example stage org)', () => {
    // Arrange
    const stage = stageConfigOf('org') as OrganizationStageConfig;
    const target = targetOf(stage);
    // Act
    const member = rulesIn(memberRulesTemplate(target, registry, stage).Resources);
    const central = rulesIn(organizationResources(target, registry, stage, lambdaIds));
    // Assert
    expect(stage.cloudTrail.readOnlyRule.enabled).toBe(false);
    expect([...member, ...central].filter((r) => r.State === READ_ONLY_RULE_STATE)).toEqual([]);
    expect(JSON.stringify([...member, ...central])).not.toContain('read-only');
  });
});
