import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { CENTRAL, centralInvoker, liveOrganizationStage, openedIn } from '../support/organizationStage.ts';

// Handler layer, on the example organization stage `org` made live (DRY_RUN=false): what each account's
// mode parameter makes of a member's world-open ingress. Its default there is dry-run.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sts = aws.of(STSClient);
const ec2 = aws.of(EC2Client);
const sns = aws.of(SNSClient);
const _cloudformation = aws.of(CloudFormationClient);
const { handler } = await import('#functions/onCloudTrail/handler.ts');

const MEMBER_A = '222222222222';
const MODE_A = `/ops-autopilot/org/accounts/${MEMBER_A}/mode`;

const invokeCentral = centralInvoker(handler);

/** The member's mode parameter holds `value` (the kill switch and every other parameter absent). */
const modeOfA = (value: string) => {
  ssm.on(GetParameterCommand, { Name: MODE_A }).resolves({ Parameter: { Name: MODE_A, Value: value } });
  resetKillSwitchForTests();
};

const revokes = () => ec2.commandCalls(RevokeSecurityGroupIngressCommand);

beforeEach(() => {
  liveOrganizationStage(aws, [{ Account: MEMBER_A, Status: 'CURRENT' }]);
});

describe("organization: each account's mode, without a deploy", () => {
  it('acts in a member whose parameter says live', async () => {
    // Arrange
    modeOfA('live');
    // Act
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(revokes()).toHaveLength(1);
  });

  it("only previews in a member with no parameter (the stage's defaultMode, dry-run), and pages", async () => {
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(revokes()).toHaveLength(0);
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')).toMatchObject({
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(result.forcedDryRun).toContain('organization.defaultMode');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('only previews in a member set to dry-run, naming the parameter', async () => {
    // Arrange
    modeOfA('dry-run');
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(revokes()).toHaveLength(0);
    expect(result.forcedDryRun).toContain(MODE_A);
  });

  it('does nothing for a member set to off: no role assumed, no page, the action log only', async () => {
    // Arrange
    modeOfA('off');
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(revokes()).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(result.outcomes).toEqual([]);
    const logged = aws.actionLog();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ reason: 'account-off' });
    expect(logged[0]?.detail).toContain(MEMBER_A);
  });

  it('previews, never acts, when the parameter holds something else', async () => {
    // Arrange
    modeOfA('on');
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(revokes()).toHaveLength(0);
    expect(result.forcedDryRun).toContain('"on"');
  });

  it("lets the stage's kill switch win over a member set live", async () => {
    // Arrange
    modeOfA('live');
    ssm
      .on(GetParameterCommand, { Name: '/ops-autopilot/org/mode' })
      .resolves({ Parameter: { Name: '/ops-autopilot/org/mode', Value: 'dry-run' } });
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(revokes()).toHaveLength(0);
    expect(result.forcedDryRun).toContain('/ops-autopilot/org/mode');
  });

  it("reads the central account's own mode for its own events", async () => {
    // Arrange
    ssm
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${CENTRAL}/mode` })
      .resolves({ Parameter: { Value: 'off' } });
    resetKillSwitchForTests();
    // Act
    const result = await invokeCentral(openedIn(CENTRAL, 'us-east-1'));
    // Assert
    expect(revokes()).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(result.notes).toEqual([expect.objectContaining({ reason: 'account-off' })]);
  });
});
