/**
 * Handler layer, issues 19 and 20: a runbook start onAlarm recorded for member account A's alarm waits
 * for approval; approveAction reads the target's tags again in A and starts the runbook in A, as A's
 * runbook role, through A's member role.
 */
import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import {
  answerMemberStage,
  asCentral,
  callsOf,
  leaveMemberApprovalStage,
  MEMBER_A,
  type MemberStage,
  memberApprovalStage,
  STAGE,
  whereCalled,
} from '../support/approvalMemberStage.ts';

const aws = await mockAwsClients();
const sts = aws.of(STSClient);
let onAlarm: typeof import('#functions/onAlarm/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;
let stage: MemberStage;
const INSTANCE = 'i-0abc1234def567890';

beforeAll(async () => {
  memberApprovalStage();
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(leaveMemberApprovalStage);

beforeEach(() => {
  stage = answerMemberStage(aws);
  aws.of(CloudWatchClient).on(ListTagsForResourceCommand).resolves({ Tags: [] });
  // The instance's tags, answered in whichever account and region the client asks: opted in.
  aws
    .of(ResourceGroupsTaggingAPIClient)
    .on(GetResourcesCommand)
    .callsFake(async (input: { ResourceARNList?: string[] }, getClient: () => unknown) => {
      const where = await whereCalled(getClient());
      stage.calls.push({ command: 'GetResources', ...where, input });
      return {
        ResourceTagMappingList: (input.ResourceARNList ?? []).map((ResourceARN) => ({
          ResourceARN,
          Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }],
        })),
      };
    });
  aws
    .of(SSMClient)
    .on(StartAutomationExecutionCommand)
    .callsFake(async (input: unknown, getClient: () => unknown) => {
      stage.calls.push({ command: 'StartAutomationExecution', ...(await whereCalled(getClient())), input });
      return { AutomationExecutionId: 'e-member-1' };
    });
});

/** A's alarm in eu-west-1, as the member rule forwards it. */
const alarmInA = () =>
  JSON.parse(
    JSON.stringify(makeAlarmEvent({ alarmName: 'web-cpu-high' }))
      .replaceAll('123456789012', MEMBER_A)
      .replaceAll('us-east-1', 'eu-west-1'),
  ) as unknown;

describe("approveAction: a runbook start recorded for a member account's alarm", () => {
  it("reads the target's tags again in A and starts the runbook in A as A's runbook role", async () => {
    // Arrange
    await asCentral('onAlarm', onAlarm, alarmInA());
    const approvalId = stage.table.approvals()[0]?.approvalId;
    if (typeof approvalId !== 'string') throw new Error('no runbook waits for approval in A');
    expect(callsOf(stage, 'StartAutomationExecution')).toEqual([]);
    stage.calls.length = 0;
    sts.resetHistory();
    resetMemberCredentialsForTests();
    resetServedAccountsForTests();
    resetKillSwitchForTests();
    // Act
    const answer = (await asCentral('approveAction', approveAction, {
      approvalId,
      decision: 'approve',
      approvedBy: 'Ana Ops',
    })) as { refused?: string; decided?: string };
    // Assert
    expect(answer.refused).toBeUndefined();
    expect(callsOf(stage, 'GetResources')).toEqual([
      expect.objectContaining({ account: MEMBER_A, region: 'eu-west-1' }),
    ]);
    expect(callsOf(stage, 'StartAutomationExecution')).toEqual([
      expect.objectContaining({
        account: MEMBER_A,
        region: 'eu-west-1',
        input: expect.objectContaining({
          DocumentName: 'AWS-RestartEC2Instance',
          Parameters: expect.objectContaining({
            InstanceId: [INSTANCE],
            AutomationAssumeRole: [`arn:aws:iam::${MEMBER_A}:role/ops-autopilot-${STAGE}-member-runbooks`],
          }),
        }),
      }),
    ]);
    expect(answer.decided).toContain(`in account ${MEMBER_A} eu-west-1`);
  });
});
