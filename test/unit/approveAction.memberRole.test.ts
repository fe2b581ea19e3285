/**
 * approveAction on an organization's stage: it may assume the member role only where an owner asks for
 * approval (an approved action recorded in a member account runs there), and the member role lends it
 * exactly what the owners' approvable executors need, in every listed region.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { inRegions, memberRolesTemplate, type OrganizationStageConfig } from '#deploy/org/member.ts';
import { stackTarget } from '#deploy/stack/index.ts';
import { functionStatements } from '#deploy/stack/roles.ts';
import { approvalOwnersOn } from '#functions/approveAction/deployment.ts';
import { type IamStatement, registry } from '#functions/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const approveAction = registry.find((e) => e.name === 'approveAction');
if (!approveAction) throw new Error('no approveAction in the registry');
const owners = Object.fromEntries(registry.map((e) => [e.name, e.deployment]));

/** The example organization stage, live, with every owner asking for approval or none. */
function orgStage(approval: boolean): OrganizationStageConfig {
  const raw = stages.org;
  if (!raw) throw new Error('no stage org');
  const required = approval ? { approval: 'required' as const } : {};
  return parseStageConfig('org', {
    ...raw,
    alarmRules: (raw.alarmRules ?? []).map(({ approval: _was, ...rule }) =>
      rule.runbook ? { ...rule, ...required } : rule,
    ),
    cloudTrail: {
      detections: {
        'security-group-open-to-world': { remediate: true, ...required },
        's3-bucket-public': { remediate: true, ...required },
      },
    },
    backupFailure: { retry: true, ...required },
    idleStop: { ...required },
  }) as OrganizationStageConfig;
}

const actionsOf = (statements: readonly IamStatement[]): string[] =>
  statements.flatMap(({ Action }) => [Action].flat());
const withoutSid = ({ Sid: _sid, ...rest }: IamStatement) => rest;

describe("approveAction's role on an organization's stage", () => {
  it('may not assume the member role where nothing asks for approval', async () => {
    // Arrange
    const stage = orgStage(false);
    // Act
    const statements = functionStatements('org', approveAction, stage);
    const declared = await approveAction.permissions(stage);
    // Assert
    expect(actionsOf(statements)).not.toContain('sts:AssumeRole');
    expect(declared).not.toContain('sts:AssumeRole');
  });

  it('may assume the member role, in accounts of the organization only, where an owner asks for approval', async () => {
    // Arrange
    const stage = orgStage(true);
    // Act
    const statements = functionStatements('org', approveAction, stage);
    const declared = await approveAction.permissions(stage);
    // Assert
    expect(statements.find((st) => st.Sid === 'AssumeMemberRole')).toMatchObject({
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:ResourceOrgID': stage.organization.id } },
    });
    expect(declared).toContain('sts:AssumeRole');
  });

  it("leaves every other function's member role assumption as it was", () => {
    // Arrange
    const stage = orgStage(false);
    // Act
    const assuming = registry.filter((entry) =>
      actionsOf(functionStatements('org', entry, stage)).includes('sts:AssumeRole'),
    );
    // Assert
    expect(assuming.map((e) => e.name).sort()).toEqual(
      registry
        .map((e) => e.name)
        .filter((name) => name !== 'approveAction')
        .sort(),
    );
  });

  it("lends it, through the member role, every statement the owners' approvable executors hold, in every listed region", () => {
    // Arrange
    const stage = orgStage(true);
    const target = stackTarget('org', stage.organization.homeRegion, ROOT, stage);
    const approvable = approvalOwnersOn(owners, stage).flatMap(({ deployment, kinds }) =>
      kinds.flatMap((kind) => {
        const statements = deployment.executors[kind]?.statements(stage);
        return statements === undefined || statements === 'off' ? [] : statements;
      }),
    );
    // Act
    const template = memberRolesTemplate(target, registry, stage);
    const policy = template.Resources.ApproveActionMemberPolicy as
      | { Properties: { PolicyDocument: { Statement: IamStatement[] } } }
      | undefined;
    // Assert: the four owners ask (onCostAnomaly stops nothing on org), and each approvable kind is lent.
    expect(
      approvalOwnersOn(owners, stage)
        .map((o) => o.name)
        .sort(),
    ).toEqual(['onAlarm', 'onBackupFailure', 'onCloudTrail', 'stopIdleInstances'].sort());
    const held = (policy?.Properties.PolicyDocument.Statement ?? []).map(withoutSid);
    for (const statement of approvable) {
      expect(held).toContainEqual(withoutSid(inRegions(statement, stage.organization.regions)));
    }
    expect(actionsOf(approvable)).toEqual(
      expect.arrayContaining([
        'ec2:StopInstances',
        'ec2:RevokeSecurityGroupIngress',
        'backup:StartBackupJob',
      ]),
    );
  });
});
