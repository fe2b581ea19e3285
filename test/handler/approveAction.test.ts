import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetCalendarStateCommand,
  GetParameterCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from '@aws-sdk/client-ssm';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetChangeFreezeForTests } from '#shared/runtime/changeFreeze.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type Latch, latch } from '../support/latch.ts';

// Handler layer: onAlarm records a pending runbook start, approveAction decides it. The approval records
// live in a small in-memory table behind the mocked document client, with DynamoDB's conditional update.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);
const cloudwatch = aws.of(CloudWatchClient);
const tagging = aws.of(ResourceGroupsTaggingAPIClient);
let onAlarm: typeof import('#functions/onAlarm/handler.ts').handler;
let approveAction: typeof import('#functions/approveAction/handler.ts').handler;

const STAGE = 'approve-action-test';
const ON_ALARM = `ops-autopilot-${STAGE}-onAlarm`;
const APPROVE_ACTION = `ops-autopilot-${STAGE}-approveAction`;
const TARGET_ARN = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890';
const ALARM_ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high';

type Item = Record<string, unknown>;
let approvals: Map<string, Item>;
/** Set by a test to hold every read of an approval until it opens. */
let holdReads: Latch | undefined;
let reads = 0;
let onRead: (() => void) | undefined;

beforeAll(async () => {
  stages[STAGE] = {
    dryRun: false,
    alarmRules: [
      {
        name: 'restart-web',
        match: { alarmName: 'web-cpu-*' },
        runbook: {
          document: 'AWS-RestartEC2Instance',
          parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' } },
        },
        approval: 'required',
      },
    ],
  };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler: onAlarm } = await import('#functions/onAlarm/handler.ts'));
  ({ handler: approveAction } = await import('#functions/approveAction/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

const isApproval = (id: unknown) => String(id).includes('#shared#approval#');

/** DynamoDB's answer to a failed condition. */
const conditionFailed = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

function approvalTable(): void {
  approvals = new Map();
  reads = 0;
  documents.on(PutCommand).callsFake((input: { Item: Item }) => {
    if (isApproval(input.Item.id)) {
      if (approvals.has(String(input.Item.id))) throw conditionFailed();
      approvals.set(String(input.Item.id), { ...input.Item });
    }
    return {};
  });
  documents.on(GetCommand).callsFake(async (input: { Key: { id: string } }) => {
    if (!isApproval(input.Key.id)) return {};
    reads += 1;
    onRead?.();
    if (holdReads) await holdReads.opened;
    const item = approvals.get(input.Key.id);
    return item ? { Item: { ...item } } : {};
  });
  documents
    .on(UpdateCommand)
    .callsFake(
      (input: {
        Key: { id: string };
        ConditionExpression?: string;
        ExpressionAttributeValues?: Record<string, unknown>;
      }) => {
        if (!isApproval(input.Key.id)) return { Attributes: { repeats: 0 } };
        const item = approvals.get(input.Key.id);
        const v = input.ExpressionAttributeValues ?? {};
        // The two conditional updates of shared/state/approvals.ts: decide (from pending), reopen.
        if (v[':to'] !== undefined) {
          if (item?.status !== 'pending' || Number(item.expiresAt) <= Number(v[':now'])) {
            throw conditionFailed();
          }
          Object.assign(item, {
            status: v[':to'],
            decidedBy: v[':by'],
            decidedAt: v[':now'],
            decidedIn: v[':in'],
          });
          if (v[':chat']) item.chatUser = v[':chat'];
          if (v[':reason']) item.decisionReason = v[':reason'];
        } else {
          if (item?.status !== 'approved' || item.decidedIn !== v[':in']) throw conditionFailed();
          item.status = 'pending';
        }
        return {};
      },
    );
}

function asFunction(name: string): void {
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  resetConfigForTests();
}

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  delete process.env.DRY_RUN;
  holdReads = undefined;
  onRead = undefined;
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  approvalTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  optedIn();
});

function optedIn(tags: Record<string, string> = { 'ops:auto-remediate': 'true' }): void {
  tagging.on(GetResourcesCommand).resolves({
    ResourceTagMappingList: [
      { ResourceARN: TARGET_ARN, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    ],
  });
}

/** onAlarm takes the ALARM and records a pending start: its approval id. */
async function pendingStart(): Promise<string> {
  asFunction(ON_ALARM);
  const result = (await onAlarm(makeAlarmEvent({ alarmName: 'web-cpu-high' }) as never, makeContext())) as {
    outcomes: { refs?: Record<string, string> }[];
  };
  const approvalId = result.outcomes[0]?.refs?.approvalId;
  if (!approvalId) throw new Error('no approval recorded');
  asFunction(APPROVE_ACTION);
  ssm.resetHistory();
  sns.resetHistory();
  documents.resetHistory();
  return approvalId;
}

type Answer = { refused?: string; message?: string; decided?: string };
const decide = (data: Record<string, unknown>) =>
  approveAction(data as never, makeContext()) as Promise<Answer>;
const approve = (approvalId: string, extra: Record<string, unknown> = {}) =>
  decide({ approvalId, decision: 'approve', approvedBy: 'Ana Ops', ...extra });
const starts = () => ssm.commandCalls(StartAutomationExecutionCommand);
const stored = (approvalId: string) => approvals.get(`ops-autopilot-${STAGE}#shared#approval#${approvalId}`);

describe('approveAction: approve a pending runbook start', () => {
  it('starts the runbook once, as onAlarm (its start limit and incident), and records who approved', async () => {
    // Arrange
    const approvalId = await pendingStart();
    // Act
    const answer = await approve(approvalId, { reason: 'checked the host', chatUser: 'U012AB3CD' });
    // Assert
    expect(starts()).toHaveLength(1);
    expect(starts()[0]?.args[0].input).toMatchObject({
      DocumentName: 'AWS-RestartEC2Instance',
      Parameters: { InstanceId: ['i-0abc1234def567890'] },
    });
    expect(answer.decided).toContain(
      `approved ${approvalId} by Ana Ops (chat user U012AB3CD): checked the host`,
    );
    expect(stored(approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: 'Ana Ops',
      chatUser: 'U012AB3CD',
    });
    // The start's claim is onAlarm's record (its limit per incident), checked against onAlarm's incident.
    const claim = documents.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(claim[0]?.ConditionCheck?.Key).toEqual({ id: `${ON_ALARM}#page#${ALARM_ARN}` });
    expect(claim[1]?.Update?.Key).toEqual({ id: `${ON_ALARM}#runbook-starts#${ALARM_ARN}#restart-web` });
    // The action log says who approved; an update page goes out on the incident.
    const logged = aws.actionLog().map((e) => e.detail);
    expect(logged.join('\n')).toContain('by Ana Ops (chat user U012AB3CD)');
    const page = String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(page).toContain(`Ana Ops (chat user U012AB3CD) approved ${approvalId}`);
    expect(page).toContain(`Incident key: ${ALARM_ARN}#approval#${approvalId}`);
  });

  it('starts it once when it is approved twice at the same time: the second is refused as decided', async () => {
    // Arrange: both invocations read the pending record before either decides.
    const approvalId = await pendingStart();
    holdReads = latch();
    const gate = holdReads;
    onRead = () => {
      if (reads === 2) gate.open();
    };
    // Act
    const answers = await Promise.all([approve(approvalId), approve(approvalId, { approvedBy: 'Bo Ops' })]);
    // Assert
    expect(reads).toBe(2);
    expect(starts()).toHaveLength(1);
    expect(answers.filter((a) => a.decided)).toHaveLength(1);
    expect(answers.filter((a) => a.refused === 'decided')).toHaveLength(1);
  });

  it('refuses a reused id as decided, naming who decided', async () => {
    // Arrange
    const approvalId = await pendingStart();
    await approve(approvalId);
    ssm.resetHistory();
    // Act
    const answer = await approve(approvalId, { approvedBy: 'Bo Ops' });
    // Assert
    expect(answer).toEqual({
      refused: 'decided',
      message: expect.stringContaining('already approved by Ana Ops'),
    });
    expect(starts()).toHaveLength(0);
  });

  it('on a dry run says what it would start, and neither starts nor decides', async () => {
    // Arrange
    const approvalId = await pendingStart();
    // Act
    const answer = await approve(approvalId, { dryRun: true });
    // Assert
    expect(answer.decided).toContain(
      `would approve ${approvalId} for Ana Ops and then: would start AWS-RestartEC2Instance InstanceId=i-0abc1234def567890`,
    );
    expect(starts()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
    expect(
      documents.commandCalls(UpdateCommand).filter((c) => isApproval(c.args[0].input.Key?.id)),
    ).toHaveLength(0);
  });
  it('on a dry run of a rejection records nothing', async () => {
    // Arrange
    const approvalId = await pendingStart();
    // Act
    const answer = await decide({ approvalId, decision: 'reject', approvedBy: 'Ana Ops', dryRun: true });
    // Assert
    expect(answer.decided).toContain(`would reject ${approvalId} for Ana Ops`);
    expect(stored(approvalId)?.status).toBe('pending');
    expect(
      documents.commandCalls(UpdateCommand).filter((c) => isApproval(c.args[0].input.Key?.id)),
    ).toHaveLength(0);
  });
});

describe('approveAction: refusals do nothing and say why', () => {
  it('records a rejection and starts nothing', async () => {
    // Arrange
    const approvalId = await pendingStart();
    // Act
    const answer = await decide({ approvalId, decision: 'reject', approvedBy: 'Ana Ops', reason: 'not now' });
    // Assert
    expect(starts()).toHaveLength(0);
    expect(answer.decided).toContain(`rejected ${approvalId} by Ana Ops: not now`);
    expect(stored(approvalId)).toMatchObject({ status: 'rejected', decisionReason: 'not now' });
    expect(await approve(approvalId)).toMatchObject({ refused: 'decided' });
    expect(starts()).toHaveLength(0);
  });

  it('refuses an expired id', async () => {
    // Arrange
    const approvalId = await pendingStart();
    const record = stored(approvalId) as Item;
    record.expiresAt = Math.floor(Date.now() / 1000) - 1;
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'expired', message: expect.stringContaining('expired at') });
    expect(starts()).toHaveLength(0);
  });

  it('refuses an unknown id', async () => {
    // Act
    asFunction(APPROVE_ACTION);
    const answer = await approve(`ap-${'0'.repeat(32)}`);
    // Assert
    expect(answer).toMatchObject({ refused: 'unknown' });
    expect(starts()).toHaveLength(0);
  });

  it('refuses after the kill switch was set, and leaves the approval pending', async () => {
    // Arrange
    const approvalId = await pendingStart();
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Name: `/ops-autopilot/${STAGE}/mode`, Value: 'dry-run', Type: 'String' },
    });
    resetKillSwitchForTests();
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'kill-switch', message: expect.stringContaining('stays pending') });
    expect(starts()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });

  it('refuses after the OK resolved the incident', async () => {
    // Arrange: onAlarm's incident record holds an OK later than the ALARM.
    const approvalId = await pendingStart();
    const fallback = documents.on(GetCommand);
    const approvalsGet = fallback;
    approvalsGet.callsFake(async (input: { Key: { id: string } }) => {
      if (input.Key.id === `${ON_ALARM}#page#${ALARM_ARN}`) return { Item: { okAt: Date.now() - 1000 } };
      const item = approvals.get(input.Key.id);
      return item ? { Item: { ...item } } : {};
    });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'resolved', message: expect.stringContaining('returned to OK') });
    expect(starts()).toHaveLength(0);
  });

  it('refuses a target that is no longer in scope (its opt-in tag removed)', async () => {
    // Arrange
    const approvalId = await pendingStart();
    optedIn({ 'ops:auto-remediate': 'false' });
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toEqual({ refused: 'out-of-scope', message: expect.stringContaining('is not tagged') });
    expect(starts()).toHaveLength(0);
  });

  it('refuses when the rate guard is full, and puts the approval back to pending', async () => {
    // Arrange: the start's claim transaction fails on its third item, the rate guard's slot.
    const approvalId = await pendingStart();
    documents.on(TransactWriteCommand).rejects(
      Object.assign(new Error('Transaction cancelled'), {
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    );
    // Act
    const answer = await approve(approvalId);
    // Assert
    expect(answer).toMatchObject({ refused: 'rate-limited' });
    expect(starts()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
  });

  it.each([
    [{ approvalId: 'ap-123', decision: 'approve', approvedBy: 'Ana' }, 'approvalId'],
    [{ approvalId: `ap-${'a'.repeat(32)}`, decision: 'maybe', approvedBy: 'Ana' }, 'decision'],
    [{ approvalId: `ap-${'a'.repeat(32)}`, decision: 'approve', approvedBy: 'Ana\uD800' }, 'approvedBy'],
    [{ approvalId: `ap-${'a'.repeat(32)}`, decision: 'approve', approvedBy: 'x'.repeat(65) }, 'approvedBy'],
    [{ approvalId: `ap-${'a'.repeat(32)}`, decision: 'approve', approvedBy: 'Ana; rm -rf' }, 'approvedBy'],
    [
      { approvalId: `ap-${'a'.repeat(32)}`, decision: 'approve', approvedBy: 'Ana', reason: 'r'.repeat(501) },
      'reason',
    ],
    [{ approvalId: `ap-${'a'.repeat(32)}`, decision: 'approve', approvedBy: 'Ana', by: 'x' }, 'by'],
  ])('refuses bad input %j naming %s, before any AWS call', async (input, field) => {
    // Arrange
    asFunction(APPROVE_ACTION);
    // Act
    const error = (await decide(input).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.name).toBe('InvalidEventError');
    expect(error.message).toContain(field);
    expect(documents.calls()).toHaveLength(0);
  });
});

describe('approveAction: a change freeze comes first, and is checked again at approval', () => {
  const calendar = 'release-freeze';
  const rule = () => stages[STAGE]?.alarmRules?.[0] as { changeCalendars?: string[] };
  const calendarIs = (State: 'OPEN' | 'CLOSED') => {
    resetChangeFreezeForTests();
    ssm.on(GetCalendarStateCommand).resolves({ State, NextTransitionTime: '2026-12-07T08:00:00Z' });
  };
  beforeEach(() => {
    rule().changeCalendars = [calendar];
    resetConfigForTests();
  });

  it("creates no approval while the rule's calendar is closed: the ALARM is previewed as change-freeze", async () => {
    // Arrange
    calendarIs('CLOSED');
    asFunction(ON_ALARM);
    // Act
    const result = (await onAlarm(makeAlarmEvent({ alarmName: 'web-cpu-high' }) as never, makeContext())) as {
      outcomes: { reason?: string; detail?: string }[];
    };
    // Assert
    expect(result.outcomes[0]).toMatchObject({ reason: 'change-freeze' });
    expect(result.outcomes[0]?.detail).toContain(calendar);
    expect(approvals.size).toBe(0);
    expect(starts()).toHaveLength(0);
  });

  it('refuses an approval while the calendar is closed, keeps it pending, and starts once when it opens', async () => {
    // Arrange: recorded while the calendar was open.
    calendarIs('OPEN');
    const approvalId = await pendingStart();
    calendarIs('CLOSED');
    // Act
    const frozen = await approve(approvalId);
    // Assert
    expect(frozen).toEqual({ refused: 'change-freeze', message: expect.stringContaining(calendar) });
    expect(frozen.message).toContain('2026-12-07T08:00:00');
    expect(starts()).toHaveLength(0);
    expect(stored(approvalId)?.status).toBe('pending');
    expect(ssm.commandCalls(GetCalendarStateCommand).at(-1)?.args[0].input.CalendarNames).toEqual([calendar]);
    // Act: the calendar opens.
    calendarIs('OPEN');
    await approve(approvalId);
    // Assert
    expect(starts()).toHaveLength(1);
    expect(stored(approvalId)?.status).toBe('approved');
  });
});
