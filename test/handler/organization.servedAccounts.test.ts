import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { CENTRAL, centralInvoker, liveOrganizationStage, openedIn } from '../support/organizationStage.ts';

// Handler layer, on the example organization stage `org` made live, every member set live: which
// accounts the central functions act for (those with a current instance of the member-roles StackSet).
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sts = aws.of(STSClient);
const ec2 = aws.of(EC2Client);
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);
const cloudformation = aws.of(CloudFormationClient);
const { handler } = await import('#functions/onCloudTrail/handler.ts');

const SERVED = '222222222222';
const UNSERVED = '444444444444';
const DAY_SECONDS = 86_400;

const invokeCentral = centralInvoker(handler);

beforeEach(() => {
  liveOrganizationStage(aws, [
    { Account: SERVED, Status: 'CURRENT' },
    // The member stack of this one was deleted outside StackSets: no role to assume.
    { Account: UNSERVED, Status: 'INOPERABLE' },
  ]);
  for (const account of [CENTRAL, SERVED, UNSERVED]) {
    ssm
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: 'live' } });
  }
  resetServedAccountsForTests();
});

describe('organization: only accounts with a current member stack are served', () => {
  it('acts on nothing for an account without a current member stack, and the log names it as not served', async () => {
    // Act
    const result = await invokeCentral(openedIn(UNSERVED, 'eu-west-1'));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    const entries = aws.actionLog().filter((e) => e.reason === 'account-not-served');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.detail).toContain(`account ${UNSERVED} is not served`);
    expect(result.notes).toEqual([expect.objectContaining({ reason: 'account-not-served' })]);
  });

  it('pages that the account is not served, on one incident per account and day, kept for a day', async () => {
    // Act
    const now = Math.floor(Date.now() / 1000);
    await invokeCentral(openedIn(UNSERVED, 'eu-west-1'));
    // Assert
    const pages = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Subject).toContain(UNSERVED);
    expect(pages[0]?.Message).toContain('not served');
    const day = new Date().toISOString().slice(0, 10);
    const claims = documents
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((input) => String(input.Key?.id).includes(`account-not-served:${UNSERVED}:${day}`))
      .filter((input) => input.ExpressionAttributeValues?.[':end'] !== undefined);
    expect(claims).toHaveLength(1);
    const windowEnd = Number(claims[0]?.ExpressionAttributeValues?.[':end']);
    expect(windowEnd).toBeGreaterThanOrEqual(now + DAY_SECONDS);
  });

  it('asks CloudFormation as delegated administrator, and once for several events', async () => {
    // Act
    await invokeCentral(openedIn(SERVED, 'eu-west-1', 'e0000000-0000-4000-8000-000000000001'));
    await invokeCentral(openedIn(UNSERVED, 'eu-west-1', 'e0000000-0000-4000-8000-000000000002'));
    // Assert
    const asked = cloudformation.commandCalls(ListStackInstancesCommand).map((c) => c.args[0].input);
    expect(asked).toEqual([
      expect.objectContaining({ StackSetName: 'ops-autopilot-org-member-roles', CallAs: 'DELEGATED_ADMIN' }),
    ]);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it('reads every page of the stack instances', async () => {
    // Arrange
    cloudformation
      .on(ListStackInstancesCommand)
      .resolvesOnce({ Summaries: [{ Account: UNSERVED, Status: 'INOPERABLE' }], NextToken: 'page-2' })
      .resolvesOnce({ Summaries: [{ Account: SERVED, Status: 'CURRENT' }] });
    // Act
    await invokeCentral(openedIn(SERVED, 'eu-west-1'));
    // Assert
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("serves the central account's own events without asking (StackSets never deploy to it)", async () => {
    // Act
    await invokeCentral(openedIn(CENTRAL, 'us-east-1'));
    // Assert
    expect(cloudformation.commandCalls(ListStackInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });
});
