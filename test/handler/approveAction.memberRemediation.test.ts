/**
 * Handler layer, issues 19 and 20: a remediation onCloudTrail recorded for member account A's event
 * waits for approval; approveAction revokes in A, in the event's region, through A's member role, and
 * holds the cross-account ARN guard against the account the record names.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import {
  answerMemberStage,
  asCentral,
  callsOf,
  leaveMemberApprovalStage,
  MEMBER_A,
  MEMBER_B,
  type MemberStage,
  memberApprovalStage,
} from '../support/approvalMemberStage.ts';
import { openedIn } from '../support/organizationStage.ts';

const aws = await mockAwsClients();
const sts = aws.of(STSClient);
let onCloudTrail: typeof import('#functions/onCloudTrail/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;
let stage: MemberStage;
const GROUP = 'sg-0123456789abcdef0';

beforeAll(async () => {
  memberApprovalStage();
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(leaveMemberApprovalStage);

beforeEach(() => {
  stage = answerMemberStage(aws);
});

type Answer = { refused?: string; message?: string; decided?: string; dryRun?: boolean };

/** A's world-open ingress record in eu-west-1, answered live: the pending remediation's approval id. */
async function pendingRevokeInA(): Promise<string> {
  await asCentral('onCloudTrail', onCloudTrail, openedIn(MEMBER_A, 'eu-west-1'));
  const approvalId = stage.table.approvals()[0]?.approvalId;
  if (typeof approvalId !== 'string') throw new Error('no remediation waits for approval in A');
  stage.calls.length = 0;
  sts.resetHistory();
  resetMemberCredentialsForTests();
  resetServedAccountsForTests();
  resetKillSwitchForTests();
  return approvalId;
}

const approve = (approvalId: string) =>
  asCentral('approveAction', approveAction, {
    approvalId,
    decision: 'approve',
    approvedBy: 'Ana Ops',
  }) as Promise<Answer>;

describe("approveAction: a remediation recorded for a member account's event", () => {
  it("revokes the opening in A and the event's region, with A's member role", async () => {
    // Arrange
    const approvalId = await pendingRevokeInA();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBeUndefined();
    expect(answer.decided).toContain(`approved ${approvalId} by Ana Ops`);
    expect(answer.decided).toContain(`in account ${MEMBER_A} eu-west-1`);
    expect(callsOf(stage, 'RevokeSecurityGroupIngress')).toEqual([
      expect.objectContaining({
        account: MEMBER_A,
        region: 'eu-west-1',
        input: expect.objectContaining({ GroupId: GROUP }),
      }),
    ]);
    expect(stage.table.approval(approvalId)?.status).toBe('approved');
  });

  it('previews the revoke while A is dry-run now, makes no mutating call, and leaves it pending', async () => {
    // Arrange
    const approvalId = await pendingRevokeInA();
    stage.modes.set(MEMBER_A, 'dry-run');
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.dryRun).toBe(true);
    expect(answer.decided).toContain(`would approve ${approvalId} for Ana Ops and then: would revoke`);
    expect(callsOf(stage, 'RevokeSecurityGroupIngress')).toHaveLength(0);
    expect(stage.table.approval(approvalId)?.status).toBe('pending');
  });

  it('refuses a record whose resource ARN names account B, decides nothing and revokes nothing', async () => {
    // Arrange: the record says A, the resource it is about is B's.
    const approvalId = await pendingRevokeInA();
    const record = stage.table.approval(approvalId) ?? {};
    const signal = JSON.parse(String(record.signal)) as { resources: { arn?: string }[] };
    signal.resources = [{ arn: `arn:aws:ec2:eu-west-1:${MEMBER_B}:security-group/${GROUP}` }];
    record.signal = JSON.stringify(signal);
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain(`of account ${MEMBER_B}`);
    expect(callsOf(stage, 'RevokeSecurityGroupIngress')).toHaveLength(0);
    expect(stage.table.approval(approvalId)?.status).toBe('pending');
  });

  it("refuses a record moved to account B's name while B is not served, naming B", async () => {
    // Arrange: someone who can write the table puts B, which the StackSet no longer serves, in the record.
    const approvalId = await pendingRevokeInA();
    stage.served.delete(MEMBER_B);
    const record = stage.table.approval(approvalId) ?? {};
    record.signal = String(record.signal).replaceAll(MEMBER_A, MEMBER_B);
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain(`account ${MEMBER_B} is not served`);
    expect(stage.calls).toEqual([]);
  });
});
