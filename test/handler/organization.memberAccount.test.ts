import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetAccountNamesForTests } from '#shared/organization/accountNames.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { type CloudTrailRecord, cloudTrailRecord } from '../support/events/index.ts';
import { CENTRAL, centralInvoker, liveOrganizationStage, openedIn } from '../support/organizationStage.ts';

// Handler layer, on the example organization stage `org` (members' events arrive on its bus): every
// client mocked, the member role's credentials answered by STS, the member served and set live.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sts = aws.of(STSClient);
const ec2 = aws.of(EC2Client);
const sns = aws.of(SNSClient);
const _cloudformation = aws.of(CloudFormationClient);
const organizations = aws.of(OrganizationsClient);
const { handler } = await import('#functions/onCloudTrail/handler.ts');

const MEMBER_A = '222222222222';
const MEMBER_B = '333333333333';
const MEMBER_ROLE_A = `arn:aws:iam::${MEMBER_A}:role/ops-autopilot-org-member`;
const MEMBER_KEYS = { AccessKeyId: 'ASIAMEMBERA', SecretAccessKey: 'secret-a', SessionToken: 'token-a' };

/** A security group opened to the world in `account` and `region`, as that account's rule forwards it. */
/** onCloudTrail as the central stack runs it: in the central account and the home region. */
const invokeCentral = centralInvoker(handler);

/** The region and credentials of the client a call went out on. */
async function whereCalled(call: { thisValue: unknown }) {
  const config = (
    call.thisValue as {
      config: { region(): Promise<string>; credentials(): Promise<{ accessKeyId: string }> };
    }
  ).config;
  return { region: await config.region(), accessKeyId: (await config.credentials()).accessKeyId };
}

beforeEach(() => {
  liveOrganizationStage(aws, [{ Account: MEMBER_A, Status: 'CURRENT' }], MEMBER_KEYS);
  for (const account of [CENTRAL, MEMBER_A]) {
    ssm
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: 'live' } });
  }
  resetAccountNamesForTests();
});

describe("organization: a member's event is acted on in the member account", () => {
  it("revokes a member's world-open ingress in that account and region, as its member role", async () => {
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    const assumed = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(assumed).toEqual([expect.objectContaining({ RoleArn: MEMBER_ROLE_A })]);
    const revokes = ec2.commandCalls(RevokeSecurityGroupIngressCommand);
    expect(revokes).toHaveLength(1);
    expect(await whereCalled(revokes[0] as never)).toEqual({
      region: 'eu-west-1',
      accessKeyId: 'ASIAMEMBERA',
    });
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')).toMatchObject({ status: 'done' });
  });

  it("names the member session after the function, not after whichever event assumed it first, and logs each event's actions with that session", async () => {
    // Arrange
    const first = 'e0000000-0000-4000-8000-000000000001';
    const second = 'e0000000-0000-4000-8000-000000000002';
    // Act: two events of the account within the credentials' hour.
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1', first));
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1', second));
    // Assert: one session, named for the function, so the member's CloudTrail attributes no action of
    // the second event to the first; the central action log ties each event to that session.
    const sessions = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName ?? '');
    expect(sessions).toHaveLength(1);
    const [session = ''] = sessions;
    expect(session).toMatch(/^ops-autopilot-[\w+=,.@-]{1,50}$/);
    expect(session).not.toContain(first);
    const sessionArn = `arn:aws:sts::${MEMBER_A}:assumed-role/ops-autopilot-org-member/${session}`;
    const revoked = aws.actionLog().filter((e) => e.intentKind === 'ec2.revoke-ingress');
    expect(revoked.map((e) => [e.correlationId, e.account, e.memberSession])).toEqual([
      [expect.stringContaining(first), MEMBER_A, sessionArn],
      [expect.stringContaining(second), MEMBER_A, sessionArn],
    ]);
  });

  it('assumes the member role once for several events of the account, until shortly before expiry', async () => {
    // Act
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1', 'e0000000-0000-4000-8000-000000000001'));
    await invokeCentral(openedIn(MEMBER_A, 'us-east-1', 'e0000000-0000-4000-8000-000000000002'));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    const regions = await Promise.all(
      ec2.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => whereCalled(c as never)),
    );
    expect(regions).toEqual([
      { region: 'eu-west-1', accessKeyId: 'ASIAMEMBERA' },
      { region: 'us-east-1', accessKeyId: 'ASIAMEMBERA' },
    ]);
  });

  it('fails the delivery, naming the role, when the member role cannot be assumed, and reads nothing there', async () => {
    // Arrange: a trust mismatch, the commonest support case of hub-and-spoke tools.
    sts
      .on(AssumeRoleCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
      );
    // Act
    const act = invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    await expect(act).rejects.toThrow(`could not assume ${MEMBER_ROLE_A}`);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("refuses at parse a member's event from a region the organization does not list, naming the region", async () => {
    // Act
    const act = invokeCentral(openedIn(MEMBER_A, 'ap-south-1'));
    // Assert
    await expect(act).rejects.toThrow(/region: the event is from region ap-south-1/);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it("handles the central account's own event in place, assuming nothing", async () => {
    // Act
    const result = await invokeCentral(openedIn(CENTRAL, 'us-east-1'));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')).toMatchObject({ status: 'done' });
  });

  it('pages the central topic, naming the member account and region', async () => {
    // Act
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    const pages = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(pages.map((p) => p.TopicArn)).toEqual([`arn:aws:sns:us-east-1:${CENTRAL}:pages`]);
    expect(pages[0]?.Message).toContain(`Account ${MEMBER_A}, region eu-west-1`);
  });

  it('names the member account in its page when the organization lets the central account read it', async () => {
    // Arrange
    organizations
      .on(DescribeAccountCommand, { AccountId: MEMBER_A })
      .resolves({ Account: { Id: MEMBER_A, Name: 'workload-prod' } });
    // Act
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1', 'e0000000-0000-4000-8000-000000000001'));
    await invokeCentral(openedIn(MEMBER_A, 'eu-west-1', 'e0000000-0000-4000-8000-000000000002'));
    // Assert
    const bodies = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Message ?? '');
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(body).toContain('account name: workload-prod');
    expect(organizations.commandCalls(DescribeAccountCommand)).toHaveLength(1);
  });

  it('pages with the account id alone when its name cannot be read', async () => {
    // Arrange
    organizations
      .on(DescribeAccountCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    // Act
    const result = await invokeCentral(openedIn(MEMBER_A, 'eu-west-1'));
    // Assert
    expect(result.outcomes.find((o) => o.kind === 'sns.page')).toMatchObject({ status: 'done' });
    const body = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(body).toContain(`Account ${MEMBER_A}, region eu-west-1`);
    expect(body).not.toContain('account name');
  });

  it("acts on nothing when a member's record names another account's trail, and says why", async () => {
    // Arrange: the org stage with the tampering remediation on, as an operator may turn it on.
    const org = stages.org as StageConfigInput;
    stages.org = {
      ...org,
      cloudTrail: { detections: { 'cloudtrail-tampering': { remediate: true } } },
    };
    resetConfigForTests();
    const trail = `arn:aws:cloudtrail:eu-west-1:${MEMBER_B}:trail/management`;
    const record = cloudTrailRecord('cloudtrail-stop-logging', {
      region: 'eu-west-1',
      awsRegion: 'eu-west-1',
    });
    const inA = JSON.parse(JSON.stringify(record).replaceAll('123456789012', MEMBER_A)) as CloudTrailRecord;
    inA.detail.requestParameters = { name: trail };
    // Act
    const result = await invokeCentral(inA).finally(() => {
      stages.org = org;
      resetConfigForTests();
    });
    // Assert
    expect(aws.calls().filter((c) => c.command === 'StartLoggingCommand')).toEqual([]);
    const refusals = [...result.outcomes, ...result.notes].filter((o) => o.reason === 'out-of-scope');
    expect(refusals.map((r) => r.detail).join(' ')).toContain(MEMBER_B);
  });
});
