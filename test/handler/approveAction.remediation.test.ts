import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCalendarStateCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetChangeFreezeForTests } from '#shared/runtime/changeFreeze.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable, isApprovalRecord } from '../support/approvalTable.ts';
import { cloudTrailRecord } from '../support/events/index.ts';
import { latch } from '../support/latch.ts';

// Handler layer: onCloudTrail records a pending remediation of a detection that asks for approval,
// approveAction decides it and runs it through onCloudTrail's own remediation executor.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const ec2 = aws.of(EC2Client);
const documents = aws.of(DynamoDBDocumentClient);
let onCloudTrail: typeof import('#functions/onCloudTrail/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;

const STAGE = 'approve-remediation-test';
const ON_CLOUDTRAIL = `ops-autopilot-${STAGE}-onCloudTrail`;
const APPROVE_ACTION = `ops-autopilot-${STAGE}-approveAction`;
const DETECTION = 'security-group-open-to-world';
const GROUP = 'sg-0123456789abcdef0';
let table: ApprovalTable;

beforeAll(async () => {
  stages[STAGE] = {
    dryRun: false,
    cloudTrail: { detections: { [DETECTION]: { remediate: true, approval: 'required' } } },
  };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

function asFunction(name: string): void {
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  resetConfigForTests();
}

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  resetKillSwitchForTests();
  delete process.env.DRY_RUN;
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});

type Outcomes = {
  outcomes: { kind: string; status: string; reason?: string; refs?: Record<string, string> }[];
};
const openWorld = () => cloudTrailRecord('security-group-open-world');
const revokes = () => ec2.commandCalls(RevokeSecurityGroupIngressCommand);
const stored = (approvalId: string) =>
  table.items.get(`ops-autopilot-${STAGE}#shared#approval#${approvalId}`);

/** onCloudTrail takes the record and records a pending remediation: its approval id. */
async function pendingRemediation(): Promise<string> {
  asFunction(ON_CLOUDTRAIL);
  const result = (await onCloudTrail(openWorld() as never, makeContext(ON_CLOUDTRAIL))) as Outcomes;
  const approvalId = result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')?.refs?.approvalId;
  if (!approvalId) throw new Error('no approval recorded');
  asFunction(APPROVE_ACTION);
  ec2.resetHistory();
  sns.resetHistory();
  documents.resetHistory();
  return approvalId;
}

type Answer = { refused?: string; message?: string; decided?: string };
const decide = (data: Record<string, unknown>) =>
  approveAction(data as never, makeContext(APPROVE_ACTION)) as Promise<Answer>;
const approve = (approvalId: string, extra: Record<string, unknown> = {}) =>
  decide({ approvalId, decision: 'approve', approvedBy: 'Ana Ops', ...extra });

describe('onCloudTrail: a detection whose remediation needs approval', () => {
  it('remediates nothing on its record, records one pending action and pages its id and command', async () => {
    // Arrange
    asFunction(ON_CLOUDTRAIL);
    // Act
    const result = (await onCloudTrail(openWorld() as never, makeContext(ON_CLOUDTRAIL))) as Outcomes;
    // Assert
    expect(revokes()).toHaveLength(0);
    const remediation = result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress');
    expect(remediation).toMatchObject({ status: 'skipped', reason: 'approval-pending' });
    const approvalId = remediation?.refs?.approvalId ?? '';
    expect(approvalId).toMatch(/^ap-[0-9a-f]{32}$/);
    expect(table.approvals()).toEqual([
      expect.objectContaining({ approvalId, status: 'pending', owner: 'onCloudTrail', rule: DETECTION }),
    ]);
    const body = String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(body).toContain('SKIPPED (approval-pending)');
    expect(body).toContain(`would revoke tcp 22 from 0.0.0.0/0 on ${GROUP}`);
    expect(body).toContain(
      `-f approveAction --data '{"approvalId":"${approvalId}","decision":"approve","approvedBy":"<your-name>"}'`,
    );
  });

  it('on a dry run previews the remediation and records no approval', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    asFunction(ON_CLOUDTRAIL);
    // Act
    const result = (await onCloudTrail(openWorld() as never, makeContext(ON_CLOUDTRAIL))) as Outcomes;
    // Assert
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')?.reason).toBe('dry-run');
    expect(table.approvalRecords()).toEqual([]);
    expect(revokes()).toHaveLength(0);
  });

  it('under the kill switch previews the remediation and records no approval', async () => {
    // Arrange
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    asFunction(ON_CLOUDTRAIL);
    // Act
    const result = (await onCloudTrail(openWorld() as never, makeContext(ON_CLOUDTRAIL))) as Outcomes;
    // Assert
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')?.reason).toBe('dry-run');
    expect(table.approvalRecords()).toEqual([]);
    expect(revokes()).toHaveLength(0);
  });

  it("under the detection's closed calendar previews it as change-freeze and records no approval", async () => {
    // Arrange
    const detection = stages[STAGE]?.cloudTrail?.detections?.[DETECTION] as { changeCalendars?: string[] };
    detection.changeCalendars = ['sg-freeze'];
    resetChangeFreezeForTests();
    ssm.on(GetCalendarStateCommand).resolves({ State: 'CLOSED', NextTransitionTime: '2026-12-07T08:00:00Z' });
    asFunction(ON_CLOUDTRAIL);
    try {
      // Act
      const result = (await onCloudTrail(openWorld() as never, makeContext(ON_CLOUDTRAIL))) as Outcomes;
      // Assert
      expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')?.reason).toBe('change-freeze');
      expect(table.approvalRecords()).toEqual([]);
      expect(revokes()).toHaveLength(0);
    } finally {
      delete detection.changeCalendars;
      resetChangeFreezeForTests();
    }
  });

  it('refuses approval on a detection that has no remediation, naming the field', () => {
    // Assert
    expect(() =>
      parseStageConfig('x', {
        dryRun: false,
        cloudTrail: { detections: { 'root-console-sign-in': { approval: 'required' } } },
      }),
    ).toThrow(/cloudTrail: detection root-console-sign-in has no remediation; approval must not be set/);
    expect(() =>
      parseStageConfig('x', {
        dryRun: false,
        cloudTrail: { detections: { [DETECTION]: { approval: 'yes' } } },
      }),
    ).toThrow(/cloudTrail\.detections\.security-group-open-to-world\.approval/);
  });
});

describe('approveAction: approve a pending remediation', () => {
  it('revokes once through the remediation executor and records who approved', async () => {
    // Arrange
    const approvalId = await pendingRemediation();
    // Act
    const answer = await approve(approvalId, { reason: 'confirmed with the owner' });
    // Assert
    expect(revokes()).toHaveLength(1);
    expect(revokes()[0]?.args[0].input).toEqual({
      GroupId: GROUP,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    expect(answer.decided).toContain(`approved ${approvalId} by Ana Ops: confirmed with the owner`);
    expect(answer.decided).toContain(`revoked tcp 22 from 0.0.0.0/0 on ${GROUP}`);
    expect(stored(approvalId)).toMatchObject({ status: 'approved', decidedBy: 'Ana Ops' });
  });

  it('revokes once when it is approved twice at the same time: the second is refused as decided', async () => {
    // Arrange: both invocations read the pending record before either decides.
    const approvalId = await pendingRemediation();
    const gate = latch();
    table.holdReads(gate, () => {
      if (table.reads() === 2) gate.open();
    });
    // Act
    const answers = await Promise.all([approve(approvalId), approve(approvalId, { approvedBy: 'Bo Ops' })]);
    // Assert
    expect(table.reads()).toBe(2);
    expect(revokes()).toHaveLength(1);
    expect(answers.filter((a) => a.decided)).toHaveLength(1);
    expect(answers.filter((a) => a.refused === 'decided')).toHaveLength(1);
  });

  it('on a dry run says what it would revoke, and neither revokes nor decides', async () => {
    // Arrange
    const approvalId = await pendingRemediation();
    // Act
    const answer = await approve(approvalId, { dryRun: true });
    // Assert
    expect(answer.decided).toContain(`would approve ${approvalId} for Ana Ops and then: would revoke tcp 22`);
    expect(ec2.calls()).toHaveLength(0);
    expect(
      documents.commandCalls(UpdateCommand).filter((c) => isApprovalRecord(c.args[0].input.Key?.id)),
    ).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });

  it('says already remediated when the opening is gone, and revokes nothing more', async () => {
    // Arrange: someone closed the rule by hand meanwhile; EC2 lists it as unknown.
    const approvalId = await pendingRemediation();
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({
      Return: true,
      UnknownIpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'resolved', message: expect.stringContaining('already remediated') });
    expect(answer.message).toContain(`${GROUP} no longer allows tcp 22 from 0.0.0.0/0`);
    expect(revokes()).toHaveLength(1);
  });
});

describe('approveAction: a pending remediation refused', () => {
  it('records a rejection and revokes nothing; the id cannot be used again', async () => {
    // Arrange
    const approvalId = await pendingRemediation();
    // Act
    const answer = await decide({
      approvalId,
      decision: 'reject',
      approvedBy: 'Ana Ops',
      reason: 'expected',
    });
    // Assert
    expect(answer.decided).toContain(`rejected ${approvalId} by Ana Ops: expected`);
    expect(await approve(approvalId)).toMatchObject({ refused: 'decided' });
    expect(revokes()).toHaveLength(0);
  });

  it('refuses an expired id', async () => {
    // Arrange
    const approvalId = await pendingRemediation();
    (stored(approvalId) as { expiresAt: number }).expiresAt = Math.floor(Date.now() / 1000) - 1;
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'expired', message: expect.stringContaining('expired at') });
    expect(revokes()).toHaveLength(0);
  });

  it('refuses after the kill switch was set, and leaves the approval pending', async () => {
    // Arrange
    const approvalId = await pendingRemediation();
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    resetKillSwitchForTests();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'kill-switch', message: expect.stringContaining('stays pending') });
    expect(revokes()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });

  it("refuses while the detection's own calendar is closed, as recorded with the pending action", async () => {
    // Arrange: recorded while the calendar was open.
    const detection = stages[STAGE]?.cloudTrail?.detections?.[DETECTION] as { changeCalendars?: string[] };
    detection.changeCalendars = ['sg-freeze'];
    resetChangeFreezeForTests();
    ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    try {
      const approvalId = await pendingRemediation();
      resetChangeFreezeForTests();
      ssm
        .on(GetCalendarStateCommand)
        .resolves({ State: 'CLOSED', NextTransitionTime: '2026-12-07T08:00:00Z' });
      // Act
      const answer = await approve(approvalId);
      // Assert
      expect(answer).toEqual({ refused: 'change-freeze', message: expect.stringContaining('sg-freeze') });
      expect(revokes()).toHaveLength(0);
      expect(stored(approvalId)?.status).toBe('pending');
    } finally {
      delete detection.changeCalendars;
      resetChangeFreezeForTests();
    }
  });

  it("refuses when the detection's rate guard is full, and puts the approval back to pending", async () => {
    // Arrange: onCloudTrail's rate guard window for the detection refuses the slot.
    const approvalId = await pendingRemediation();
    table.refuseUpdates((id) => id.startsWith(`${ON_CLOUDTRAIL}#rate-guard#${DETECTION}#`));
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toMatchObject({ refused: 'rate-limited' });
    expect(revokes()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });

  it.each([
    ['recorded in another account', { signal: { account: '210987654321' } }, 'account 210987654321'],
    ['recorded in another region', { signal: { region: 'eu-west-1' } }, 'region eu-west-1'],
    ['whose group id is not one', { intent: { groupId: 'sg-0123; drop' } }, 'groupId'],
  ])('refuses a remediation %s as out of scope', async (_case, tamper, named) => {
    // Arrange: the pending record, changed after it was written.
    const approvalId = await pendingRemediation();
    const record = stored(approvalId) as { signal: string; intent: string };
    if ('signal' in tamper)
      record.signal = JSON.stringify({ ...JSON.parse(record.signal), ...tamper.signal });
    if ('intent' in tamper)
      record.intent = JSON.stringify({ ...JSON.parse(record.intent), ...tamper.intent });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'out-of-scope', message: expect.stringContaining(named) });
    expect(revokes()).toHaveLength(0);
  });
});
