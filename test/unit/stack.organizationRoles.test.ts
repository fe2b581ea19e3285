import { describe, expect, it } from 'vitest';
import { stageConfigOf } from '#config/stageConfig.ts';
import { functionStatements } from '#deploy/stack/roles.ts';
import { registry } from '#functions/index.ts';

// What an organization's stage adds to each central function's role, for acting in member accounts
// (shared/organization/): exactly these five statements, and on a single-account stage none.
const ORG_SIDS = ['AssumeMemberRole', 'AccountModes', 'ServedAccounts', 'AccountNames', 'AccountOuPaths'];
const org = stageConfigOf('org');
const orgId = org.organization?.id;

describe("an organization's central function roles", () => {
  it.each(registry.map((e) => [e.name, e] as const))(
    '%s may assume only the member role, inside the organization, read only the accounts’ modes, list only the member-roles StackSet and describe only its organization’s accounts and OUs',
    (_name, entry) => {
      // Act
      const statements = functionStatements('org', entry, org).filter((s) => ORG_SIDS.includes(s.Sid ?? ''));
      // Assert: approveAction assumes the member role only where an owner asks for approval (not on org).
      const assumes = entry.deployment.actsInMembers?.(org) !== false;
      const expected = [
        {
          Sid: 'AssumeMemberRole',
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/ops-autopilot-org-member` },
          Condition: { StringEquals: { 'aws:ResourceOrgID': orgId } },
        },
        {
          Sid: 'AccountModes',
          Effect: 'Allow',
          Action: 'ssm:GetParameter',
          Resource: {
            'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/ops-autopilot/org/accounts/*/mode`,
          },
        },
        {
          Sid: 'ServedAccounts',
          Effect: 'Allow',
          Action: 'cloudformation:ListStackInstances',
          Resource: {
            'Fn::Sub': `arn:\${AWS::Partition}:cloudformation:\${AWS::Region}:*:stackset/ops-autopilot-org-member-roles:*`,
          },
        },
        {
          Sid: 'AccountNames',
          Effect: 'Allow',
          Action: 'organizations:DescribeAccount',
          Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:organizations::*:account/${orgId}/*` },
        },
        {
          Sid: 'AccountOuPaths',
          Effect: 'Allow',
          Action: ['organizations:ListParents', 'organizations:DescribeOrganizationalUnit'],
          Resource: [
            { 'Fn::Sub': `arn:\${AWS::Partition}:organizations::*:account/${orgId}/*` },
            { 'Fn::Sub': `arn:\${AWS::Partition}:organizations::*:ou/${orgId}/*` },
          ],
        },
      ];
      expect(statements).toEqual(assumes ? expected : expected.slice(1));
      expect(assumes).toBe(entry.name !== 'approveAction');
    },
  );

  it.each(['dev', 'prod'])('are not in any role of the single-account stage %s', (stage) => {
    // Act
    const sids = registry.flatMap((e) =>
      functionStatements(stage, e, stageConfigOf(stage)).map((s) => s.Sid),
    );
    // Assert
    expect(sids.filter((sid) => ORG_SIDS.includes(sid ?? ''))).toEqual([]);
    expect(
      JSON.stringify(registry.map((e) => functionStatements(stage, e, stageConfigOf(stage)))),
    ).not.toContain('sts:AssumeRole');
  });
});
