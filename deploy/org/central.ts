/**
 * What an organization's stage adds to the central stack (docs/ORGANIZATION.md): the organization's
 * bus, which only accounts of the organization may put to; each function's rules on it, the patterns of
 * its default-bus rules; and the two StackSets that give every member account of the listed OUs the
 * member templates (member.ts), deployed to new accounts as they join.
 */
import { eventRuleOf, type RegistryEntry } from '#functions/index.ts';
import { ruleFailedInvocationsAlarm } from '../stack/alarms.ts';
import { pascal, type Resources, roleId, type StackTarget } from '../stack/names.ts';
import { resolvedPatternsOf, ruleSuffixes } from '../stack/patterns.ts';
import {
  READ_ONLY_FUNCTION,
  READ_ONLY_RULE_SUFFIX,
  readOnlyRuleOn,
  readOnlyRulePatternOf,
} from '../stack/readOnlyRule.ts';
import {
  type MemberTemplate,
  memberTemplates,
  type OrganizationStageConfig,
  templateBody,
} from './member.ts';
import { checkedName, MEMBER_TEMPLATES, type MemberTemplateKind, orgBusName } from './names.ts';

export const ORG_BUS_ID = 'OrgEventBus';

/**
 * StackSets operation preferences for many accounts: regions in parallel, a quarter of the accounts at
 * a time (SOFT_FAILURE_TOLERANCE: the default, strict mode would cap the concurrency at the tolerance
 * plus one), and an operation stops once a tenth fail. AutoDeployment runs (an account joining an OU)
 * ignore them (docs/ORGANIZATION.md).
 */
export const OPERATION_PREFERENCES = {
  RegionConcurrencyType: 'PARALLEL',
  ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
  MaxConcurrentPercentage: 25,
  FailureTolerancePercentage: 10,
};

/** The organization's rule of a function's default-bus rule `<suffix>`: `ops-autopilot-<stage>-org-<suffix>`. */
export const orgRuleSuffix = (suffix: string): string => `org-${suffix}`;

/** The bus and its policy: events:PutEvents from the organization's accounts alone. */
function orgBus(target: StackTarget, stage: OrganizationStageConfig): Resources {
  return {
    [ORG_BUS_ID]: {
      Type: 'AWS::Events::EventBus',
      Properties: { Name: checkedName(orgBusName(target.stage), 'event bus', 256) },
    },
    OrgEventBusPolicy: {
      Type: 'AWS::Events::EventBusPolicy',
      Properties: {
        EventBusName: { Ref: ORG_BUS_ID },
        StatementId: 'organization-accounts-put-events',
        Statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: { 'Fn::GetAtt': [ORG_BUS_ID, 'Arn'] },
          Condition: { StringEquals: { 'aws:PrincipalOrgID': stage.organization.id } },
        },
      },
    },
  };
}

/**
 * Each event function's rules again on the organization's bus, with the same patterns, targets, retries
 * and dead-letter queue as on the default bus, each with its invoke permission and its failed-invocations
 * alarm.
 */
function orgBusRules(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  lambdaIds: ReadonlyMap<string, string>,
): Resources {
  const resources: Resources = {};
  for (const { name, deployment } of registry) {
    const lambdaId = lambdaIds.get(name);
    if (lambdaId === undefined) throw new Error(`ops-autopilot: ${name} is not in the template`);
    // A function invoked by hand (approveAction) takes no event from the bus.
    const rule = eventRuleOf(deployment);
    if (rule === undefined) continue;
    const suffixes = ruleSuffixes(deployment, target.root);
    resolvedPatternsOf(target, registry, deployment).forEach((pattern, i) => {
      if (pattern === undefined) return;
      const suffix = orgRuleSuffix(suffixes[i] as string);
      const ruleId = `${pascal(suffix)}Rule`;
      resources[ruleId] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: checkedName(`ops-autopilot-${target.stage}-${suffix}`, 'rule'),
          Description: `The organization's events ${name} takes`,
          EventBusName: { Ref: ORG_BUS_ID },
          State: 'ENABLED',
          EventPattern: pattern,
          Targets: [
            {
              Id: `${rule.trigger.rule}-org`,
              Arn: { 'Fn::GetAtt': [lambdaId, 'Arn'] },
              RetryPolicy: {
                MaximumEventAgeInSeconds: rule.retryPolicy.maximumEventAge,
                MaximumRetryAttempts: rule.retryPolicy.maximumRetryAttempts,
              },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } },
            },
          ],
        },
      };
      resources[`${ruleId}InvokePermission`] = {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          FunctionName: { 'Fn::GetAtt': [lambdaId, 'Arn'] },
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
        },
      };
      const [alarmId, alarm] = ruleFailedInvocationsAlarm(
        target.stage,
        suffix,
        deployment.monitoring.period,
        `EventBridge gave up invoking ${name} from the organization's bus (see the events DLQ)`,
      );
      resources[alarmId] = alarm;
    });
  }
  return resources;
}

/** A service-managed StackSet of one member template, on the listed OUs less the central account. */
function memberStackSet(
  target: StackTarget,
  kind: MemberTemplateKind,
  template: MemberTemplate,
  regions: readonly string[],
  stage: OrganizationStageConfig,
  dependsOn: string[],
): Resources[string] {
  return {
    Type: 'AWS::CloudFormation::StackSet',
    DependsOn: dependsOn,
    Properties: {
      StackSetName: `ops-autopilot-${target.stage}-${MEMBER_TEMPLATES[kind].stackSet}`,
      Description: template.Description,
      PermissionModel: 'SERVICE_MANAGED',
      // New accounts of the OUs get it as they join; a removed account's stack is deleted with it.
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'DELEGATED_ADMIN',
      ...(kind === 'roles' ? { Capabilities: ['CAPABILITY_NAMED_IAM'] } : {}),
      ManagedExecution: { Active: true },
      OperationPreferences: OPERATION_PREFERENCES,
      Parameters: [{ ParameterKey: 'CentralAccountId', ParameterValue: { Ref: 'AWS::AccountId' } }],
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            OrganizationalUnitIds: [...stage.organization.ous],
            // The central account has its own rules and roles: an OU that holds it must not add the members'.
            AccountFilterType: 'DIFFERENCE',
            Accounts: [{ Ref: 'AWS::AccountId' }],
          },
          Regions: [...regions],
        },
      ],
      TemplateBody: templateBody(template),
    },
  };
}

/**
 * Everything an organization's stage adds to the central stack. The member roles trust the functions'
 * roles by ARN, which must exist first; the rules need the forwarder role and the bus's policy.
 */
export function organizationResources(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stage: OrganizationStageConfig,
  lambdaIds: ReadonlyMap<string, string>,
): Resources {
  const templates = memberTemplates(target, registry, stage);
  // The members forward read-only calls when the stage turns the rule on: the bus hands them on too.
  const readOnly = readOnlyRulePatternOf(target, registry, stage);
  const readOnlyLambda = lambdaIds.get(READ_ONLY_FUNCTION);
  const readOnlyOnBus =
    readOnly === undefined || readOnlyLambda === undefined
      ? {}
      : readOnlyRuleOn(target, registry, readOnly, readOnlyLambda, {
          idPrefix: 'OrgOnCloudTrailReadOnly',
          suffix: orgRuleSuffix(READ_ONLY_RULE_SUFFIX),
          bus: { Ref: ORG_BUS_ID },
          targetId: 'on-cloudtrail-org',
          from: " from the organization's bus",
        });
  return {
    ...orgBus(target, stage),
    ...orgBusRules(target, registry, lambdaIds),
    ...readOnlyOnBus,
    MemberRolesStackSet: memberStackSet(
      target,
      'roles',
      templates.roles,
      // IAM is global: one region, or the second would collide with the first.
      [stage.organization.homeRegion],
      stage,
      registry.map(({ name }) => roleId(name)),
    ),
    MemberRulesStackSet: memberStackSet(target, 'rules', templates.rules, stage.organization.regions, stage, [
      'MemberRolesStackSet',
      'OrgEventBusPolicy',
    ]),
  };
}
