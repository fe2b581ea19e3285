import {
  CloudFormationClient,
  ListStackInstancesCommand,
  type StackInstanceSummary,
} from '@aws-sdk/client-cloudformation';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { CENTRAL, centralInvoker, liveOrganizationStage, openedIn } from '../support/organizationStage.ts';

// Handler layer, stage `org` made live: which member-roles stack instances mean the member role
// exists. An instance is OUTDATED while a StackSet update runs on it (PENDING, RUNNING), or after one
// was stopped (CANCELLED) or failed (FAILED); its stack, and so the role of the last version, is still
// there when the instance has a stack (StackId). A failed operation may have been the stack's creation
// (rolled back, no role): such an account is not served until its instance is repaired.
const aws = await mockAwsClients();
const sts = aws.of(STSClient);
const ec2 = aws.of(EC2Client);
const { handler } = await import('#functions/onCloudTrail/handler.ts');
const invokeCentral = centralInvoker(handler);

const MEMBER = '222222222222';
const STACK_ID = `arn:aws:cloudformation:us-east-1:${MEMBER}:stack/StackSet-ops-autopilot-org-member-roles-0f1e/1a2b`;

function instanceIs(summary: Omit<StackInstanceSummary, 'Account'>): void {
  aws
    .of(CloudFormationClient)
    .on(ListStackInstancesCommand)
    .resolves({ Summaries: [{ Account: MEMBER, Region: 'us-east-1', ...summary }] });
}

beforeEach(() => {
  liveOrganizationStage(aws, []);
  for (const account of [CENTRAL, MEMBER]) {
    aws
      .of(SSMClient)
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: 'live' } });
  }
  resetServedAccountsForTests();
});

describe('organization: a member stack instance being updated still serves its account', () => {
  it.each(['PENDING', 'RUNNING', 'CANCELLED'] as const)(
    'acts in an account whose instance is OUTDATED (%s) with its stack in place',
    async (detailed) => {
      // Arrange
      instanceIs({
        Status: 'OUTDATED',
        StackInstanceStatus: { DetailedStatus: detailed },
        StackId: STACK_ID,
      });
      // Act
      const result = await invokeCentral(openedIn(MEMBER, 'eu-west-1'));
      // Assert
      expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
      expect(result.notes.filter((n) => n.reason === 'account-not-served')).toEqual([]);
    },
  );

  it.each([
    [
      'OUTDATED with no stack yet (being created)',
      { Status: 'OUTDATED', StackInstanceStatus: { DetailedStatus: 'RUNNING' } },
    ],
    [
      'OUTDATED after a failed operation',
      { Status: 'OUTDATED', StackInstanceStatus: { DetailedStatus: 'FAILED' }, StackId: STACK_ID },
    ],
    [
      'OUTDATED in a suspended account',
      {
        Status: 'OUTDATED',
        StackInstanceStatus: { DetailedStatus: 'SKIPPED_SUSPENDED_ACCOUNT' },
        StackId: STACK_ID,
      },
    ],
    [
      'INOPERABLE',
      { Status: 'INOPERABLE', StackInstanceStatus: { DetailedStatus: 'INOPERABLE' }, StackId: STACK_ID },
    ],
  ] as const)('acts on nothing in an account whose instance is %s', async (_case, summary) => {
    // Arrange
    instanceIs(summary as Omit<StackInstanceSummary, 'Account'>);
    // Act
    const result = await invokeCentral(openedIn(MEMBER, 'eu-west-1'));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(result.notes).toEqual([expect.objectContaining({ reason: 'account-not-served' })]);
  });
});
