import { CloudWatchClient, ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer: a runbook rule that waits for a person's approval starts nothing on ALARM.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);
const cloudwatch = aws.of(CloudWatchClient);
const tagging = aws.of(ResourceGroupsTaggingAPIClient);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;

const STAGE = 'approvals-test';
const TARGET_ARN = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890';

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
      {
        name: 'restart-api',
        match: { alarmName: 'api-*' },
        runbook: {
          document: 'AWS-RestartEC2Instance',
          parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' } },
        },
      },
    ],
    approvals: { expiryMinutes: 30 },
  };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  resetConfigForTests();
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  delete process.env.DRY_RUN;
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'e-1' });
  cloudwatch.on(ListTagsForResourceCommand).resolves({ Tags: [] });
  tagging.on(GetResourcesCommand).resolves({
    ResourceTagMappingList: [
      { ResourceARN: TARGET_ARN, Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }] },
    ],
  });
});

const invoke = (event: unknown) => handler(event as never, makeContext());
// The pending actions (type `approval`), not the record a retried delivery finds its own by.
const pendingPuts = () =>
  documents
    .commandCalls(PutCommand)
    .map((c) => c.args[0].input.Item ?? {})
    .filter((item) => String(item.id).includes('#shared#approval#') && item.type === 'approval');

describe('onAlarm: a runbook rule with approval required', () => {
  it('starts nothing on ALARM, records one pending approval and pages its id with the approve command', async () => {
    // Act
    const result = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }))) as {
      outcomes: { kind: string; status: string; reason?: string; refs?: Record<string, string> }[];
    };
    // Assert
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
    const [runbook] = result.outcomes;
    expect(runbook).toMatchObject({
      kind: 'ssm.start-automation',
      status: 'skipped',
      reason: 'approval-pending',
    });
    const approvalId = runbook?.refs?.approvalId ?? '';
    expect(approvalId).toMatch(/^ap-[0-9a-f]{32}$/);
    const pending = pendingPuts();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      id: `ops-autopilot-${STAGE}#shared#approval#${approvalId}`,
      status: 'pending',
      stage: STAGE,
      owner: 'onAlarm',
      incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high',
    });
    // Expires in 30 minutes (the stage's setting); DynamoDB's TTL removes it a week later.
    const item = pending[0] as { expiresAt: number; expiration: number };
    expect(item.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThan(29 * 60);
    expect(item.expiresAt - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(30 * 60);
    expect(item.expiration).toBeGreaterThan(item.expiresAt);
    const body = String(sns.commandCalls(PublishCommand)[0]?.args[0].input.Message);
    expect(body).toContain('SKIPPED (approval-pending)');
    expect(body).toContain(
      `npx sls invoke --stage ${STAGE} --region us-east-1 -f approveAction --data '{"approvalId":"${approvalId}","decision":"approve","approvedBy":"<your-name>"}'`,
    );
    expect(body).toContain('"decision":"reject"');
    expect(body).toContain('would start AWS-RestartEC2Instance InstanceId=i-0abc1234def567890');
  });

  it('on a dry run previews the start and records no approval', async () => {
    // Arrange
    process.env.DRY_RUN = 'true';
    resetConfigForTests();
    // Act
    const result = (await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }))) as {
      outcomes: { reason?: string }[];
    };
    // Assert
    expect(result.outcomes[0]?.reason).toBe('dry-run');
    expect(pendingPuts()).toHaveLength(0);
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
  });

  it('starts the runbook at once for a rule that does not ask for approval (the default)', async () => {
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'api-latency-high' }));
    // Assert
    expect(pendingPuts()).toHaveLength(0);
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(1);
  });
});
