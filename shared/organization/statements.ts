import { actionsOf, type RuntimeStatement } from '#shared/runtime/statements.ts';
import { memberRoleName, memberRolesStackSetName } from './names.ts';

/**
 * What a central function's role needs on an organization's stage to act in member accounts, declared
 * once beside the code that uses it (account.ts): assume the member role, in accounts of the
 * organization only; read the accounts' mode parameters (mode.ts); list the member-roles StackSet's
 * instances (servedAccounts.ts); name a member and its OU path in its pages (accountNames.ts, ouPaths.ts). A single-account
 * stage's roles hold none of it (deploy/stack/roles.ts).
 */
export function organizationStatements(stage: string, organizationId: string): RuntimeStatement[] {
  return [
    {
      Sid: 'AssumeMemberRole',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      // Any member account's role of that name, only in an account of this organization: the role's own
      // trust policy names these roles and the organization too.
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/${memberRoleName(stage)}` },
      Condition: { StringEquals: { 'aws:ResourceOrgID': organizationId } },
    },
    {
      Sid: 'AccountModes',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/ops-autopilot/${stage}/accounts/*/mode`,
      },
    },
    {
      Sid: 'ServedAccounts',
      Effect: 'Allow',
      Action: 'cloudformation:ListStackInstances',
      // A service-managed StackSet made by a delegated administrator belongs to the management account
      // (its ARN names that account), so the account is left open; the name is this stage's.
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:cloudformation:\${AWS::Region}:*:stackset/${memberRolesStackSetName(stage)}:*`,
      },
    },
    {
      Sid: 'AccountNames',
      Effect: 'Allow',
      Action: 'organizations:DescribeAccount',
      // The accounts of this organization (their ARNs name the management account): a member's name for
      // its pages. Organizations answers only where its management account lets this account read.
      Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:organizations::*:account/${organizationId}/*` },
    },
    {
      Sid: 'AccountOuPaths',
      Effect: 'Allow',
      Action: ['organizations:ListParents', 'organizations:DescribeOrganizationalUnit'],
      // A member's OU path for its pages (ouPaths.ts): the parents of this organization's accounts and
      // OUs, and those OUs' names. Organizations answers only a management account or delegated admin.
      Resource: [
        { 'Fn::Sub': `arn:\${AWS::Partition}:organizations::*:account/${organizationId}/*` },
        { 'Fn::Sub': `arn:\${AWS::Partition}:organizations::*:ou/${organizationId}/*` },
      ],
    },
  ];
}

/** The IAM actions of those statements: what an organization's stage adds to every function's declared permissions. */
export const ORGANIZATION_PERMISSIONS: readonly string[] = actionsOf(
  organizationStatements('stage', 'o-example'),
);
