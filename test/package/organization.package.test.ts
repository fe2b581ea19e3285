/**
 * `sls package --stage org`: the central stack of an organization (docs/ORGANIZATION.md). One packaging
 * of org per run (packagedOnce, shared with the every-stage role test); dev's is the cached one.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { stageConfigOf } from '#config/stageConfig.ts';
import { memberTemplatePath } from '#deploy/org/files.ts';
import { TEMPLATE_BODY_LIMIT } from '#deploy/org/names.ts';
import { registry } from '#functions/index.ts';
import { eventRules, ROOT, runSls, type Template } from '../../tools/local/packaged.ts';
import { type ScopedStatement, unscopedFindings, wildcardFindings } from '../support/iamScope.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';

const run = promisify(execFile);
const organization = stageConfigOf('org').organization;
const ORG_TYPES = ['AWS::Events::EventBus', 'AWS::Events::EventBusPolicy', 'AWS::CloudFormation::StackSet'];

let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('org');
}, 300_000);

/** cfn-lint's findings on these files: '' and 0 when there are none. */
const cfnLint = (files: string[]) =>
  run('cfn-lint', files, {
    env: { ...process.env, PATH: `${process.env.HOME}/.pyenv/shims:${process.env.PATH}` },
  }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code?: number | string; stdout?: string; stderr?: string }) => ({
      code: e.code,
      out: `${e.stdout}${e.stderr}`,
    }),
  );

const resourcesOf = (template: Template, type: string) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

/** The bus a packaged rule listens on: default, or the organization's (a Ref to its bus). */
const busOf = (template: Template, logicalId: string): string => {
  const bus = template.Resources[logicalId]?.Properties.EventBusName;
  return bus === undefined || bus === 'default' ? 'default' : JSON.stringify(bus);
};

describe('the central stack of an organization, packaged (stage org)', () => {
  it('passes cfn-lint with no findings', async () => {
    // Act
    const lint = await cfnLint([packaged.templatePath]);
    // Assert
    expect(lint.out).toBe('');
    expect(lint.code).toBe(0);
  }, 120_000);

  it("holds the organization's bus, to which only the organization's accounts may put events", () => {
    // Arrange
    const [[busId, bus] = []] = resourcesOf(packaged.template, 'AWS::Events::EventBus');
    const policies = resourcesOf(packaged.template, 'AWS::Events::EventBusPolicy');
    // Assert
    expect(bus?.Properties.Name).toBe('ops-autopilot-org-org');
    expect(policies).toHaveLength(1);
    expect(policies[0]?.[1].Properties).toEqual({
      EventBusName: { Ref: busId },
      StatementId: 'organization-accounts-put-events',
      Statement: {
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: { 'Fn::GetAtt': [busId, 'Arn'] },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': organization?.id } },
      },
    });
  });

  it("invokes each event function from the organization's bus by the very patterns of its default-bus rules", () => {
    // Arrange
    const rules = eventRules(packaged.template);
    const patternsOn = (fn: string, onDefault: boolean) =>
      rules
        .filter(
          (r) => r.functionName === fn && (busOf(packaged.template, r.logicalId) === 'default') === onDefault,
        )
        .map((r) => r.pattern);
    const eventFunctions = registry.filter(
      ({ deployment }) => !('scheduleParam' in deployment.trigger) && !('manual' in deployment.trigger),
    );
    // Assert
    expect(eventFunctions.length).toBe(5);
    // A function invoked by hand (approveAction) has no rule on either bus.
    for (const { name } of registry.filter(({ deployment }) => 'manual' in deployment.trigger)) {
      expect([...patternsOn(name, true), ...patternsOn(name, false)], name).toEqual([]);
    }
    for (const { name } of eventFunctions) {
      expect(patternsOn(name, true).length, name).toBeGreaterThan(0);
      expect(patternsOn(name, false), name).toEqual(patternsOn(name, true));
    }
    // Every rule off the default bus is on the organization's, and the member role's calls are left out.
    const orgRules = rules.filter((r) => busOf(packaged.template, r.logicalId) !== 'default');
    expect(new Set(orgRules.map((r) => busOf(packaged.template, r.logicalId)))).toEqual(
      new Set(['{"Ref":"OrgEventBus"}']),
    );
    expect(JSON.stringify(orgRules.map((r) => r.pattern))).toContain('"ops-autopilot-org-member"');
  });

  it('lets EventBridge invoke a function only from its own rules on the organization bus', () => {
    // Arrange
    const orgRuleIds = eventRules(packaged.template)
      .filter((r) => busOf(packaged.template, r.logicalId) !== 'default')
      .map((r) => r.logicalId);
    // Assert
    expect(orgRuleIds.length).toBeGreaterThanOrEqual(registry.length - 1);
    for (const id of orgRuleIds) {
      expect(packaged.template.Resources[`${id}InvokePermission`]?.Properties.SourceArn, id).toEqual({
        'Fn::GetAtt': [id, 'Arn'],
      });
    }
  });

  it.each([
    ['roles', 'MemberRolesStackSet', 'member-roles'],
    ['rules', 'MemberRulesStackSet', 'member-rules'],
  ] as const)(
    'deploys the member %s by a service-managed StackSet, auto-deployed to the listed OUs, as delegated administrator',
    (kind, id, name) => {
      // Arrange
      const properties = packaged.template.Resources[id]?.Properties ?? {};
      const body = String(properties.TemplateBody);
      const [group, ...more] = properties.StackInstancesGroup as {
        DeploymentTargets: Record<string, unknown>;
        Regions: string[];
      }[];
      // Assert
      expect(properties.StackSetName).toBe(`ops-autopilot-org-${name}`);
      expect(properties.PermissionModel).toBe('SERVICE_MANAGED');
      expect(properties.AutoDeployment).toEqual({ Enabled: true, RetainStacksOnAccountRemoval: false });
      expect(properties.CallAs).toBe('DELEGATED_ADMIN');
      expect(properties.OperationPreferences).toEqual({
        RegionConcurrencyType: 'PARALLEL',
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        MaxConcurrentPercentage: 25,
        FailureTolerancePercentage: 10,
      });
      expect(more).toEqual([]);
      expect(group?.DeploymentTargets).toEqual({
        OrganizationalUnitIds: organization?.ous,
        AccountFilterType: 'DIFFERENCE',
        Accounts: [{ Ref: 'AWS::AccountId' }],
      });
      // IAM is global: the roles go to one region; the rules to every listed one.
      expect(group?.Regions).toEqual(kind === 'roles' ? [organization?.homeRegion] : organization?.regions);
      expect(properties.Parameters).toEqual([
        { ParameterKey: 'CentralAccountId', ParameterValue: { Ref: 'AWS::AccountId' } },
      ]);
      // What is deployed is what deploy/org/ keeps for review, within CloudFormation's TemplateBody limit.
      expect(JSON.parse(body)).toEqual(
        JSON.parse(readFileSync(join(ROOT, memberTemplatePath('org', kind)), 'utf8')),
      );
      expect(Buffer.byteLength(body)).toBeLessThan(TEMPLATE_BODY_LIMIT);
    },
  );

  it("creates the member roles only once the central functions' roles they trust exist", () => {
    // Arrange
    const dependsOn = packaged.template.Resources.MemberRolesStackSet?.DependsOn ?? [];
    const functionRoles = resourcesOf(packaged.template, 'AWS::Lambda::Function').map(
      ([, fn]) => (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
    );
    // Assert
    expect(functionRoles).toHaveLength(registry.length);
    expect([...dependsOn].sort()).toEqual([...functionRoles].sort());
    expect(packaged.template.Resources.MemberRulesStackSet?.DependsOn).toEqual([
      'MemberRolesStackSet',
      'OrgEventBusPolicy',
    ]);
  });

  it('passes cfn-lint on the member templates kept in deploy/org/', async () => {
    // Act
    const lint = await cfnLint(
      [memberTemplatePath('org', 'roles'), memberTemplatePath('org', 'rules')].map((p) => join(ROOT, p)),
    );
    // Assert
    expect(lint.out).toBe('');
    expect(lint.code).toBe(0);
  }, 120_000);

  it('scopes every role of the central stack as on a single-account stage', () => {
    // Arrange
    const roles = resourcesOf(packaged.template, 'AWS::IAM::Role').map(
      ([id, r]): [string, ScopedStatement[]] => [
        id,
        ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: ScopedStatement[] } }[]).flatMap(
          (p) => p.PolicyDocument.Statement,
        ),
      ],
    );
    // Assert
    expect(roles.length).toBeGreaterThan(registry.length);
    expect(wildcardFindings(roles)).toEqual([]);
    expect(unscopedFindings(roles)).toEqual([]);
  });

  it('refuses to package stage org in a region other than its home region, naming organization.homeRegion', async () => {
    // Arrange
    const out = mkdtempSync(join(tmpdir(), 'ops-autopilot-org-region-'));
    try {
      // Act
      const run = await runSls(
        ['package', '--stage', 'org', '--region', 'eu-west-1', '--package', out],
        { ...process.env, AWS_ENDPOINT_URL: '' },
        120_000,
      );
      // Assert
      expect(run.code).not.toBe(0);
      expect(run.out).toContain(
        'stage "org" is an organization\'s central stack in organization.homeRegion us-east-1; it cannot go to eu-west-1',
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);

  it('leaves a single-account stage (dev) without a bus, a bus policy or a StackSet of the organization', async () => {
    // Act
    const { template: dev } = await packagedOnce('dev');
    // Assert
    expect(Object.values(dev.Resources).filter((r) => ORG_TYPES.includes(r.Type))).toEqual([]);
    expect(JSON.stringify(dev.Resources)).not.toContain('-member');
    expect(ORG_TYPES.every((t) => resourcesOf(packaged.template, t).length > 0)).toBe(true);
  }, 300_000);
});
