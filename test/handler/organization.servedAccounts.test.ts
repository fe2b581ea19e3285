import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type CloudTrailRecord, cloudTrailRecord } from '../support/events/index.ts';

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

const CENTRAL = '111111111111';
const SERVED = '222222222222';
const UNSERVED = '444444444444';
const DAY_SECONDS = 86_400;

function openedIn(account: string, region: string, id?: string): CloudTrailRecord {
  const record = cloudTrailRecord('security-group-open-world', {
    region,
    awsRegion: region,
    ...(id ? { id } : {}),
  });
  return JSON.parse(JSON.stringify(record).replaceAll('123456789012', account)) as CloudTrailRecord;
}

const invokeCentral = async (record: CloudTrailRecord) =>
  (await handler(
    record as never,
    makeContext('ops-autopilot-org-onCloudTrail', { account: CENTRAL, region: 'us-east-1' }),
  )) as PipelineResult;

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  for (const account of [CENTRAL, SERVED, UNSERVED]) {
    ssm
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: 'live' } });
  }
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAMEMBER',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3600_000),
    },
  });
  cloudformation.on(ListStackInstancesCommand).resolves({
    Summaries: [
      { Account: SERVED, Region: 'us-east-1', Status: 'CURRENT' },
      // The member stack of this one was deleted outside StackSets: no role to assume.
      { Account: UNSERVED, Region: 'us-east-1', Status: 'INOPERABLE' },
    ],
  });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  process.env.STAGE = 'org';
  process.env.DRY_RUN = 'false';
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:${CENTRAL}:pages`;
  resetConfigForTests();
  resetMemberCredentialsForTests();
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
