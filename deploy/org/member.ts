/**
 * The two templates every member account of an organization's stage gets through StackSets, derived from
 * the function registry: the roles (one region: IAM is global) and the rules (every listed region).
 * Plain CloudFormation: no Lambda, no bucket, no transform. `npm run org:templates` writes them to
 * deploy/org/<stage>/, and the central stack embeds them (central.ts).
 */
import type { CfnValue, IamStatement, RegistryEntry } from '#functions/index.ts';
import { automationRoleStatements } from '#functions/onAlarm/deployment.ts';
import {
  type CfnResource,
  functionRoleName,
  kebab,
  pascal,
  type Resources,
  type StackTarget,
} from '../stack/names.ts';
import { resolvedPatternsOf, ruleSuffixes } from '../stack/patterns.ts';
import { READ_ONLY_RULE_STATE, READ_ONLY_RULE_SUFFIX, readOnlyRulePatternOf } from '../stack/readOnlyRule.ts';
import type { StageConfig } from '../stack/roles.ts';
import {
  checkedName,
  forwarderRoleName,
  memberRoleName,
  memberRunbookRoleName,
  orgBusName,
  TEMPLATE_BODY_LIMIT,
} from './names.ts';

export type OrganizationStageConfig = StageConfig & {
  organization: NonNullable<StageConfig['organization']>;
};

/** A member template: what the StackSet deploys, with the central account as its one parameter. */
export interface MemberTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters: Record<string, Record<string, string>>;
  Resources: Resources;
}

/** The central account: the StackSet passes its own account id (central.ts). */
const PARAMETERS = {
  CentralAccountId: {
    Type: 'String',
    AllowedPattern: '^\\d{12}$',
    Description: 'The account of the central ops-autopilot stack (the StackSets delegated administrator)',
  },
};

// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, not a template
const REGION = '${AWS::Region}';

/**
 * The organization's bus, in the central account and its home region: the only place a member's rules
 * put events, and the only resource the forwarder role may put to.
 */
export const orgBusArn = (stage: string, homeRegion: string): CfnValue => ({
  'Fn::Sub': `arn:\${AWS::Partition}:events:${homeRegion}:\${CentralAccountId}:event-bus/${orgBusName(stage)}`,
});

/**
 * One statement, acting in every listed region: a resource naming this stack's region (`${AWS::Region}`
 * in an Fn::Sub) becomes one resource per region; nothing else about it changes. The member role is
 * global, so the region it is created in says nothing about where it acts.
 */
export function inRegions(statement: IamStatement, regions: readonly string[]): IamStatement {
  const { Resource, ...rest } = statement;
  if (JSON.stringify(rest).includes('AWS::Region')) {
    throw new Error(
      `ops-autopilot: statement ${statement.Sid} names the region outside its resources; a member role cannot hold it`,
    );
  }
  const resources = Array.isArray(Resource) ? Resource : [Resource];
  const expanded = resources.flatMap((r): CfnValue[] => {
    if (!JSON.stringify(r).includes('AWS::Region')) return [r];
    const sub = (r as Record<string, CfnValue>)['Fn::Sub'];
    if (typeof sub !== 'string') {
      throw new Error(
        `ops-autopilot: statement ${statement.Sid} names the region in a resource other than an Fn::Sub string`,
      );
    }
    return regions.map((region) => ({ 'Fn::Sub': sub.split(REGION).join(region) }));
  });
  return {
    ...rest,
    Resource: Array.isArray(Resource) || expanded.length > 1 ? expanded : (expanded[0] as CfnValue),
  };
}

/**
 * What a function's role grants for acting in an account: its reads and its executors' statements, as
 * its deployment declares them on the stage, in every listed region. The runtime's statements (logs,
 * traces, state table, page topics, failure queue, kill switch) stay with the central role.
 */
export const actingStatements = (entry: RegistryEntry, stage: OrganizationStageConfig): IamStatement[] =>
  [
    ...entry.deployment.readStatements(stage),
    // An executor on the central stack's own resources (the scan queue) acts in no member account.
    ...Object.values(entry.deployment.executors)
      .filter((grant) => !grant.central)
      .flatMap((grant) => {
        const statements = grant.statements(stage);
        return statements === 'off' ? [] : statements;
      }),
  ].map((st) => inRegions(st, stage.organization.regions));

/** The statements a function's central role holds beyond the runtime's and never lends a member. */
export const centralOnlyStatements = (entry: RegistryEntry, stage: OrganizationStageConfig): IamStatement[] =>
  Object.values(entry.deployment.executors)
    .filter((grant) => grant.central)
    .flatMap((grant) => {
      const statements = grant.statements(stage);
      return statements === 'off' ? [] : statements;
    });

/** The managed policy of one function's acting statements; each stays within IAM's 6,144 characters. */
const MANAGED_POLICY_LIMIT = 6144;

/** The member roles: the one the central functions assume, the runbooks', and the forwarder. */
export function memberRolesTemplate(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stage: OrganizationStageConfig,
): MemberTemplate {
  const { organization } = stage;
  const member = checkedName(memberRoleName(target.stage), 'role');
  // Exactly the central functions' roles, by ARN, and only from inside the organization.
  const centralRoles = registry.map(({ deployment }) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:iam::\${CentralAccountId}:role/${functionRoleName(target.stage, deployment, organization.homeRegion)}`,
  }));
  const resources: Resources = {
    MemberRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: member,
        Description: 'Assumed by the central ops-autopilot functions to act in this account',
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: centralRoles },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:PrincipalOrgID': organization.id } },
            },
          ],
        },
      },
    },
  };
  for (const entry of registry) {
    const statements = actingStatements(entry, stage);
    if (statements.length === 0) continue;
    const PolicyDocument = { Version: '2012-10-17', Statement: statements };
    const size = JSON.stringify(PolicyDocument).length;
    if (size > MANAGED_POLICY_LIMIT) {
      throw new Error(
        `ops-autopilot: ${entry.name}'s member policy is ${size} characters; IAM takes ${MANAGED_POLICY_LIMIT}`,
      );
    }
    resources[`${pascal(entry.name)}MemberPolicy`] = {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        ManagedPolicyName: checkedName(`${member}-${kebab(entry.name)}`, 'policy', 128),
        Description: `What ${entry.name} may do in this account, as its deployment declares it`,
        Roles: [{ Ref: 'MemberRole' }],
        PolicyDocument,
      },
    };
  }
  // The runbooks' own role, as the central stack's: onAlarm's PassRole names it by this logical id.
  const runbookStatements = automationRoleStatements(stage).map((st) => inRegions(st, organization.regions));
  resources.RunbookAutomationRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: checkedName(memberRunbookRoleName(target.stage), 'role'),
      Description: 'The role the runbooks ops-autopilot starts in this account run as',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'ssm.amazonaws.com' },
            Action: 'sts:AssumeRole',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
            Condition: { StringEquals: { 'aws:SourceAccount': { 'Fn::Sub': '${AWS::AccountId}' } } },
          },
        ],
      },
      ...(runbookStatements.length === 0
        ? {}
        : {
            Policies: [
              {
                PolicyName: 'configured-runbooks',
                PolicyDocument: { Version: '2012-10-17', Statement: runbookStatements },
              },
            ],
          }),
    },
  };
  resources.ForwarderRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: checkedName(forwarderRoleName(target.stage), 'role'),
      Description: "Puts this account's events to the organization's ops-autopilot bus, and nothing else",
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sts:AssumeRole',
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
            Condition: { StringEquals: { 'aws:SourceAccount': { 'Fn::Sub': '${AWS::AccountId}' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'put-events-org-bus',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'PutEventsOrgBus',
                Effect: 'Allow',
                Action: 'events:PutEvents',
                Resource: orgBusArn(target.stage, organization.homeRegion),
              },
            ],
          },
        },
      ],
    },
  };
  return sized({
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `ops-autopilot ${target.stage}: the roles of a member account (one region; IAM is global)`,
    Parameters: PARAMETERS,
    Resources: resources,
  });
}

/**
 * The member rules: on the member's default bus, each central function's pattern as its central rules
 * hold it, put to the organization's bus (in another region where the member's is not the home region)
 * as the forwarder role. A scheduled function has no rule here.
 */
export function memberRulesTemplate(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stage: OrganizationStageConfig,
): MemberTemplate {
  const { organization } = stage;
  const resources: Resources = {};
  const forward = (suffix: string, name: string, pattern: unknown, state: string): void => {
    const rule: CfnResource = {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: checkedName(`ops-autopilot-${target.stage}-forward-${suffix}`, 'rule'),
        Description: `The events ${name} takes, to the organization's ops-autopilot bus`,
        EventBusName: 'default',
        State: state,
        EventPattern: pattern,
        Targets: [
          {
            Id: 'org-bus',
            Arn: orgBusArn(target.stage, organization.homeRegion),
            RoleArn: {
              'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${forwarderRoleName(target.stage)}`,
            },
          },
        ],
      },
    };
    resources[`Forward${pascal(suffix)}Rule`] = rule;
  };
  for (const { name, deployment } of registry) {
    const suffixes = ruleSuffixes(deployment, target.root);
    resolvedPatternsOf(target, registry, deployment).forEach((pattern, i) => {
      if (pattern !== undefined) forward(suffixes[i] as string, name, pattern, 'ENABLED');
    });
  }
  // onCloudTrail's read-only rule, when the stage turns it on: read-only calls reach a rule only in
  // this state, on the member's default bus as on the central one.
  const readOnly = readOnlyRulePatternOf(target, registry, stage);
  if (readOnly !== undefined) forward(READ_ONLY_RULE_SUFFIX, 'onCloudTrail', readOnly, READ_ONLY_RULE_STATE);
  return sized({
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `ops-autopilot ${target.stage}: the rules of a member account, to the organization's bus`,
    Parameters: PARAMETERS,
    Resources: resources,
  });
}

/** A template as the StackSet holds it inline: minified JSON. */
export const templateBody = (template: MemberTemplate): string => JSON.stringify(template);

/** A template too large for TemplateBody is refused at package time, with its size. */
function sized(template: MemberTemplate): MemberTemplate {
  const bytes = Buffer.byteLength(templateBody(template));
  if (bytes > TEMPLATE_BODY_LIMIT) {
    throw new Error(
      `ops-autopilot: a member template is ${bytes} bytes; a StackSet's TemplateBody takes ${TEMPLATE_BODY_LIMIT}`,
    );
  }
  return template;
}

/** Both member templates of an organization's stage, by kind. */
export const memberTemplates = (
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stage: OrganizationStageConfig,
): { roles: MemberTemplate; rules: MemberTemplate } => ({
  roles: memberRolesTemplate(target, registry, stage),
  rules: memberRulesTemplate(target, registry, stage),
});
