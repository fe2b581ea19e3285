/**
 * The member templates of the example organization stage `org`, as deploy/org/org/ keeps them: what the
 * registry makes, plain CloudFormation, and a member role holding exactly what the functions declare.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageConfigOf } from '#config/stageConfig.ts';
import { generatedMemberTemplates, memberTemplatePath } from '#deploy/org/files.ts';
import {
  actingStatements,
  centralOnlyStatements,
  inRegions,
  type MemberTemplate,
  type OrganizationStageConfig,
} from '#deploy/org/member.ts';
import { TEMPLATE_BODY_LIMIT } from '#deploy/org/names.ts';
import { stackTarget } from '#deploy/stack/index.ts';
import { pascal } from '#deploy/stack/names.ts';
import { resolvedPatternsOf } from '#deploy/stack/patterns.ts';
import { organizationStatementsOf } from '#deploy/stack/roles.ts';
import { registry } from '#functions/index.ts';
import { runtimeStatements } from '#shared/runtime/statements.ts';
import { type ScopedStatement, unscopedFindings, wildcardFindings } from '../support/iamScope.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const STAGE = 'org';
const config = stageConfigOf(STAGE) as OrganizationStageConfig;
const target = stackTarget(STAGE, config.organization.homeRegion, ROOT, config);
const committed = (kind: 'roles' | 'rules'): MemberTemplate =>
  JSON.parse(readFileSync(join(ROOT, memberTemplatePath(STAGE, kind)), 'utf8')) as MemberTemplate;
const roles = committed('roles');
const rules = committed('rules');
const ORG_BUS = {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
  'Fn::Sub': 'arn:${AWS::Partition}:events:us-east-1:${CentralAccountId}:event-bus/ops-autopilot-org-org',
};

type Policy = { PolicyDocument: { Statement: ScopedStatement[] } };
/** Every statement of the roles template, by the role or managed policy holding it. */
function statementsByOwner(template: MemberTemplate): [string, ScopedStatement[]][] {
  return Object.entries(template.Resources).flatMap(([id, r]): [string, ScopedStatement[]][] => {
    if (r.Type === 'AWS::IAM::ManagedPolicy')
      return [[id, (r.Properties as Policy).PolicyDocument.Statement]];
    if (r.Type !== 'AWS::IAM::Role') return [];
    const policies = (r.Properties.Policies ?? []) as Policy[];
    return [[id, policies.flatMap((p) => p.PolicyDocument.Statement)]];
  });
}
const actionsOf = (statements: readonly { Action?: string | string[] }[]): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : s.Action === undefined ? [] : [s.Action]));

describe('the member templates of an organization stage', () => {
  it('are kept under deploy/org/ exactly as the registry makes them (npm run org:templates)', () => {
    // Arrange
    const generated = generatedMemberTemplates(ROOT);
    // Assert
    expect([...generated.keys()].sort()).toEqual([
      'deploy/org/org/member-roles.json',
      'deploy/org/org/member-rules.json',
    ]);
    expect(readdirSync(join(ROOT, 'deploy', 'org', STAGE)).sort()).toEqual([
      'member-roles.json',
      'member-rules.json',
    ]);
    for (const [path, template] of generated) {
      expect(
        JSON.parse(readFileSync(join(ROOT, path), 'utf8')),
        `${path} is stale: npm run org:templates`,
      ).toEqual(template);
    }
  });

  it.each([
    ['roles', roles],
    ['rules', rules],
  ])('hold no Lambda, bucket, transform or Serverless metadata (%s)', (_kind, template) => {
    // Arrange
    const types = Object.values(template.Resources).map((r) => r.Type);
    // Assert
    expect(types.length).toBeGreaterThan(0);
    expect(Object.keys(template).sort()).toEqual([
      'AWSTemplateFormatVersion',
      'Description',
      'Parameters',
      'Resources',
    ]);
    expect(types.filter((t) => /^AWS::(Lambda|S3|Serverless)::/.test(t))).toEqual([]);
    expect(Object.values(template.Resources).filter((r) => 'Metadata' in r)).toEqual([]);
    expect(JSON.stringify(template)).not.toMatch(
      /AWS::Serverless|ServerlessDeploymentBucket|"Transform"|"Metadata"/,
    );
  });

  it.each([
    ['roles', roles],
    ['rules', rules],
  ])('fits a StackSet TemplateBody of %s within 51,200 bytes', (_kind, template) => {
    expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(TEMPLATE_BODY_LIMIT);
  });

  it.each(registry.map((entry) => [entry.name, entry] as const))(
    "gives the member role exactly %s's declared acting statements, in every listed region, and with the central-only statements exactly its declared actions",
    async (name, entry) => {
      // Arrange
      const policy = roles.Resources[`${pascal(name)}MemberPolicy`] as
        | { Properties: Policy & { Roles: unknown } }
        | undefined;
      const held = policy?.Properties.PolicyDocument.Statement ?? [];
      // The central role's: the runtime's, and what acting in member accounts needs.
      const central = [
        ...runtimeStatements(STAGE, name, {
          stateTableActions: entry.deployment.stateTableActions ?? [],
          sharedState: entry.deployment.sharedStateRecords?.(config) ?? [],
        }),
        // What acts on the central stack's own resources (the idle scan's queue) stays central too.
        ...centralOnlyStatements(entry, config),
        ...organizationStatementsOf(STAGE, entry.deployment, config),
      ];
      // Act
      const declared = await entry.permissions(config);
      // Assert
      expect(held).toEqual(actingStatements(entry, config));
      if (policy) expect(policy.Properties.Roles).toEqual([{ Ref: 'MemberRole' }]);
      expect([...new Set([...actionsOf(central), ...actionsOf(held)])].sort()).toEqual(declared);
      // Acting in more than one region: no resource is left in the region the roles are created in.
      expect(JSON.stringify(held)).not.toContain('AWS::Region');
    },
  );

  it('lets the member role act in each listed region: a regional resource is named once per region', () => {
    // Arrange
    const onAlarm = roles.Resources.OnAlarmMemberPolicy as unknown as { Properties: Policy };
    const alarmTags = onAlarm.Properties.PolicyDocument.Statement.find((s) => s.Sid === 'AlarmTags');
    // Assert
    expect(alarmTags?.Resource).toEqual(
      config.organization.regions.map((region) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:cloudwatch:${region}:\${AWS::AccountId}:alarm:*`,
      })),
    );
  });

  it('refuses a statement that names the region where it cannot be repeated per region, naming it', () => {
    // Arrange
    const inCondition = {
      Sid: 'RegionInCondition',
      Effect: 'Allow' as const,
      Action: 'ec2:StopInstances',
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } },
    };
    const inJoin = {
      Sid: 'RegionInJoin',
      Effect: 'Allow' as const,
      Action: 'ec2:StopInstances',
      Resource: { 'Fn::Join': [':', ['arn:aws:ec2', { Ref: 'AWS::Region' }, 'instance/*']] },
    };
    // Act and Assert
    expect(() => inRegions(inCondition, ['eu-west-1'])).toThrow(
      /RegionInCondition names the region outside its resources/,
    );
    expect(() => inRegions(inJoin, ['eu-west-1'])).toThrow(
      /RegionInJoin names the region in a resource other than an Fn::Sub/,
    );
  });

  it("trusts only the central functions' roles, by ARN, and only from inside the organization", () => {
    // Arrange
    const trust = (
      roles.Resources.MemberRole?.Properties.AssumeRolePolicyDocument as { Statement: unknown[] } | undefined
    )?.Statement;
    // Assert
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: {
          AWS: registry.map(({ deployment }) => ({
            'Fn::Sub': `arn:\${AWS::Partition}:iam::\${CentralAccountId}:role/ops-autopilot-org-${deployment.roleName}-us-east-1`,
          })),
        },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': config.organization.id } },
      },
    ]);
    expect(roles.Resources.MemberRole?.Properties.RoleName).toBe('ops-autopilot-org-member');
  });

  it('lets the forwarder role only put events to the organization bus', () => {
    // Arrange
    const [, forwarder] = statementsByOwner(roles).find(([id]) => id === 'ForwarderRole') ?? [];
    // Assert
    expect(forwarder).toEqual([
      { Sid: 'PutEventsOrgBus', Effect: 'Allow', Action: 'events:PutEvents', Resource: ORG_BUS },
    ]);
  });

  it('scopes every statement of the member roles: no `*`, `service:*` or NotAction, every mutating action on a resource or under a condition', () => {
    // Arrange
    const owners = statementsByOwner(roles);
    // Assert
    expect(owners.map(([id]) => id)).toEqual(
      expect.arrayContaining(['MemberRole', 'ForwarderRole', 'RunbookAutomationRole']),
    );
    expect(wildcardFindings(owners)).toEqual([]);
    expect(unscopedFindings(owners)).toEqual([]);
  });

  it("forwards, from each member's default bus to the organization bus as the forwarder role, exactly the central functions' patterns", () => {
    // Arrange
    const expected = registry.flatMap(({ deployment }) =>
      resolvedPatternsOf(target, registry, deployment).filter((p) => p !== undefined),
    );
    const forwarded = Object.values(rules.Resources).map((r) => r.Properties);
    // Assert
    expect(forwarded.map((r) => r.EventPattern)).toEqual(expected);
    for (const rule of forwarded) {
      expect(rule.EventBusName).toBe('default');
      expect(rule.Targets).toEqual([
        {
          Id: 'org-bus',
          Arn: ORG_BUS,
          RoleArn: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
            'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops-autopilot-org-member-forwarder',
          },
        },
      ]);
    }
  });

  it("leaves out of the patterns the member role's own calls, as it leaves out the functions' roles", () => {
    // Arrange
    const patterns = JSON.stringify(Object.values(rules.Resources).map((r) => r.Properties.EventPattern));
    // Assert
    expect(patterns).toContain('"ops-autopilot-org-member"');
    expect(patterns).toContain('"ops-autopilot-org-on-cloudtrail-us-east-1"');
  });

  it('refuses to place an organization stage outside its home region, naming the field', () => {
    // Act
    const act = () => stackTarget(STAGE, 'eu-west-1', ROOT, config);
    // Assert
    expect(act).toThrow(/organization\.homeRegion us-east-1; it cannot go to eu-west-1/);
  });

  it('places a single-account stage anywhere, its rules excluding only its functions', () => {
    // Act
    const dev = stackTarget('dev', 'eu-west-1', ROOT, stageConfigOf('dev'));
    // Assert
    expect(dev).toEqual({ stage: 'dev', region: 'eu-west-1', root: ROOT });
  });
});
