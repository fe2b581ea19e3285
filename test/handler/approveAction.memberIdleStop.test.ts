/**
 * Handler layer, issues 19 and 20: an idle stop list an organization's worker run recorded for member
 * account A waits for approval; approveAction carries it out in A, as the idle stopper would have: A's
 * member role, A's region, A's instances read again there, A's share of the stop budget, and only while
 * A is served and live and the stage's kill switch is not set. Mocked clients: a call's account is read
 * back from the credentials its client holds (test/support/approvalMemberStage.ts).
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import {
  answerMemberStage,
  asCentral,
  BUDGET,
  CENTRAL,
  callsOf,
  idleInstanceOf,
  leaveMemberApprovalStage,
  MEMBER_A,
  MEMBER_ROLE,
  type MemberStage,
  memberApprovalStage,
  STAGE,
  scanDelivery,
} from '../support/approvalMemberStage.ts';
import { latch } from '../support/latch.ts';

const aws = await mockAwsClients();
const sts = aws.of(STSClient);
const documents = aws.of(DynamoDBDocumentClient);
let stopIdleInstances: typeof import('#functions/stopIdleInstances/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;
let stage: MemberStage;
const A_INSTANCE = idleInstanceOf(MEMBER_A).InstanceId;

beforeAll(async () => {
  memberApprovalStage();
  ({ handler: stopIdleInstances } = await import('#functions/stopIdleInstances/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(leaveMemberApprovalStage);

beforeEach(() => {
  stage = answerMemberStage(aws);
});

type Answer = {
  refused?: string;
  message?: string;
  decided?: string;
  dryRun?: boolean;
  notes?: { reason: string; detail: string }[];
  outcomes?: { refs?: Record<string, string> }[];
};

/** A's worker run, live, asks for approval of its stop list: the approval id. Nothing is cached after. */
async function pendingStopsInA(region = 'eu-west-1'): Promise<string> {
  await asCentral('stopIdleInstances', stopIdleInstances, scanDelivery(MEMBER_A, region));
  const approvalId = stage.table.approvals()[0]?.approvalId;
  if (typeof approvalId !== 'string') throw new Error('no approval recorded for A');
  stage.calls.length = 0;
  sts.resetHistory();
  resetMemberCredentialsForTests();
  resetServedAccountsForTests();
  resetKillSwitchForTests();
  return approvalId;
}

const approve = (approvalId: string, extra: Record<string, unknown> = {}) =>
  asCentral('approveAction', approveAction, {
    approvalId,
    decision: 'approve',
    approvedBy: 'Ana Ops',
    ...extra,
  }) as Promise<Answer>;

const assumedRoles = () => sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);

describe("approveAction: an idle stop list recorded in a member account's worker run", () => {
  it("stops A's instances in A and its region, with A's member role, and spends A's share of the budget", async () => {
    // Arrange
    const approvalId = await pendingStopsInA();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBeUndefined();
    expect(answer.decided).toContain(`approved ${approvalId} by Ana Ops`);
    expect(callsOf(stage, 'DescribeInstances')).toEqual([
      expect.objectContaining({ account: MEMBER_A, region: 'eu-west-1' }),
    ]);
    expect(callsOf(stage, 'StopInstances')).toEqual([
      expect.objectContaining({
        account: MEMBER_A,
        region: 'eu-west-1',
        input: expect.objectContaining({ InstanceIds: [A_INSTANCE] }),
      }),
    ]);
    expect(assumedRoles()).toEqual([
      expect.objectContaining({
        RoleArn: `arn:aws:iam::${MEMBER_A}:role/${MEMBER_ROLE}`,
        RoleSessionName: `ops-autopilot-${STAGE}-approveAction`,
      }),
    ]);
    expect(stage.table.items.get(BUDGET)?.claims).toEqual([
      expect.objectContaining({ account: MEMBER_A, instanceIds: [A_INSTANCE] }),
    ]);
    // The outcome, and so the action log's entry of the stop, names the account and the session.
    const session = `arn:aws:sts::${MEMBER_A}:assumed-role/${MEMBER_ROLE}/ops-autopilot-${STAGE}-approveAction`;
    expect(answer.outcomes?.[0]?.refs).toMatchObject({ account: MEMBER_A, memberSession: session });
    const logged = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => Object.values(c.args[0].input.RequestItems ?? {}).flat())
      .map(
        (r) => (r as { PutRequest?: { Item?: { intentKind?: string; detail?: string } } }).PutRequest?.Item,
      );
    expect(logged).toContainEqual(
      expect.objectContaining({
        intentKind: 'ec2.stop-instances',
        detail: expect.stringContaining(`(in account ${MEMBER_A} eu-west-1, as ${session})`),
      }),
    );
    expect(stage.table.approval(approvalId)?.status).toBe('approved');
  });

  it("stops the central account's own worker run in place, in its region, assuming nothing", async () => {
    // Arrange: the central account's own target in eu-west-1 (the stack runs in us-east-1).
    await asCentral('stopIdleInstances', stopIdleInstances, scanDelivery(CENTRAL, 'eu-west-1'));
    const approvalId = String(stage.table.approvals()[0]?.approvalId);
    stage.calls.length = 0;
    sts.resetHistory();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBeUndefined();
    expect(callsOf(stage, 'StopInstances')).toEqual([
      expect.objectContaining({
        account: CENTRAL,
        region: 'eu-west-1',
        input: expect.objectContaining({ InstanceIds: [idleInstanceOf(CENTRAL).InstanceId] }),
      }),
    ]);
    expect(assumedRoles()).toEqual([]);
  });

  it('stops them once when approved twice at once in the member account: the second is refused as decided', async () => {
    // Arrange: both invocations read the pending record before either decides.
    const approvalId = await pendingStopsInA();
    const gate = latch();
    stage.table.holdReads(gate, (reads) => {
      if (reads === 2) gate.open();
    });
    // Act
    const answers = await Promise.all([approve(approvalId), approve(approvalId, { approvedBy: 'Bo Ops' })]);
    // Assert
    expect(callsOf(stage, 'StopInstances')).toHaveLength(1);
    expect(answers.filter((a) => a.decided)).toHaveLength(1);
    expect(answers.filter((a) => a.refused === 'decided')).toHaveLength(1);
  });

  it("counts the stop in A's own rate-guard window: A's full window refuses it and puts the approval back", async () => {
    // Arrange: A's idle-stop window is full; the stage's own window (the central account's) is not.
    const approvalId = await pendingStopsInA();
    const windows: string[] = [];
    stage.table.refuseUpdates((id) => {
      if (!id.includes('#rate-guard#')) return false;
      windows.push(id);
      return id.includes(`#rate-guard#idle-stop#${MEMBER_A}#`);
    });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('rate-limited');
    expect(windows.length).toBeGreaterThan(0);
    expect(callsOf(stage, 'StopInstances')).toHaveLength(0);
    expect(stage.table.approval(approvalId)?.status).toBe('pending');
  });

  it('previews the stops while A is dry-run now, stops nothing, and leaves the approval pending', async () => {
    // Arrange: A was live when the scan asked; an operator set it to dry-run since.
    const approvalId = await pendingStopsInA();
    stage.modes.set(MEMBER_A, 'dry-run');
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.dryRun).toBe(true);
    expect(answer.decided).toContain(
      `would approve ${approvalId} for Ana Ops and then: would stop 1 instance(s)`,
    );
    expect(answer.notes?.map((n) => n.detail).join('\n')).toContain(
      `account ${MEMBER_A} is dry-run by /ops-autopilot/${STAGE}/accounts/${MEMBER_A}/mode`,
    );
    expect(callsOf(stage, 'StopInstances')).toHaveLength(0);
    expect(callsOf(stage, 'CreateTags')).toHaveLength(0);
    expect(stage.table.approval(approvalId)?.status).toBe('pending');
  });

  it('refuses while A is off, assumes nothing there, and names the account', async () => {
    // Arrange
    const approvalId = await pendingStopsInA();
    stage.modes.set(MEMBER_A, 'off');
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain(`account ${MEMBER_A} is off`);
    expect(assumedRoles()).toEqual([]);
    expect(stage.calls).toEqual([]);
    expect(stage.table.approval(approvalId)?.status).toBe('pending');
  });

  it('refuses once A is no longer served, and names the account and the StackSet', async () => {
    // Arrange
    const approvalId = await pendingStopsInA();
    stage.served.delete(MEMBER_A);
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain(`account ${MEMBER_A} is not served`);
    expect(answer.message).toContain(`ops-autopilot-${STAGE}-member-roles`);
    expect(assumedRoles()).toEqual([]);
    expect(stage.calls).toEqual([]);
  });

  it("refuses under the stage's kill switch, even for a live member, and assumes nothing", async () => {
    // Arrange
    const approvalId = await pendingStopsInA();
    stage.killSwitch = 'dry-run';
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('kill-switch');
    expect(assumedRoles()).toEqual([]);
    expect(stage.calls).toEqual([]);
  });

  it('refuses a record whose region was changed to one the organization does not list, naming it', async () => {
    // Arrange: someone who can write the table moves the stop list to another region.
    const approvalId = await pendingStopsInA();
    const record = stage.table.approval(approvalId) ?? {};
    record.signal = String(record.signal).replaceAll('"eu-west-1"', '"ap-south-1"');
    record.intent = String(record.intent).replaceAll('"eu-west-1"', '"ap-south-1"');
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain('region ap-south-1');
    expect(assumedRoles()).toEqual([]);
    expect(callsOf(stage, 'StopInstances')).toHaveLength(0);
  });

  it("refuses a stop list whose target names another account than the record's, and stops nothing", async () => {
    // Arrange: the record says A, the stop list's target is B.
    const approvalId = await pendingStopsInA();
    const record = stage.table.approval(approvalId) ?? {};
    record.intent = String(record.intent).replaceAll(`"account":"${MEMBER_A}"`, '"account":"333333333333"');
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain('333333333333');
    expect(callsOf(stage, 'StopInstances')).toHaveLength(0);
  });

  it('refuses a record whose settings were given a rate guard of their own, and stops nothing', async () => {
    // Arrange: someone who can write the table loosens the limit the stops are held to.
    const approvalId = await pendingStopsInA();
    const record = stage.table.approval(approvalId) ?? {};
    record.settings = JSON.stringify({
      ...JSON.parse(String(record.settings)),
      rateGuard: { maxActions: 1000, windowMinutes: 1 },
    });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer.refused).toBe('out-of-scope');
    expect(answer.message).toContain('"rateGuard", which no owner records');
    expect(callsOf(stage, 'StopInstances')).toHaveLength(0);
    expect(stage.table.approval(approvalId)?.status).toBe('pending');
  });

  it('on a stage that is no organization refuses a member account record, naming the account', async () => {
    // Arrange: the stage has since become a single-account stage.
    const approvalId = await pendingStopsInA();
    const { organization: _was, ...single } = stages[STAGE] ?? { dryRun: false };
    stages[STAGE] = single;
    try {
      // Act
      const answer = await approve(approvalId);
      // Assert
      expect(answer.refused).toBe('out-of-scope');
      expect(answer.message).toContain(`account ${MEMBER_A}`);
      expect(assumedRoles()).toEqual([]);
      expect(stage.calls).toEqual([]);
    } finally {
      memberApprovalStage();
    }
  });
});
