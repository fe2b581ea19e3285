import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable } from '../support/approvalTable.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

// Handler layer: a delivery that recorded a pending action and then failed (its page did not go out) is
// retried by Lambda; the retry finds the pending action it recorded and pages it again, with the same id.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const sns = aws.of(SNSClient);
const ec2 = aws.of(EC2Client);
let onCloudTrail: typeof import('#functions/onCloudTrail/handler.ts').handler;

const STAGE = 'approval-retried-delivery-test';
const ON_CLOUDTRAIL = `ops-autopilot-${STAGE}-onCloudTrail`;
let table: ApprovalTable;

beforeAll(async () => {
  stages[STAGE] = {
    dryRun: false,
    cloudTrail: { detections: { 'security-group-open-to-world': { remediate: true, approval: 'required' } } },
  };
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.AWS_LAMBDA_FUNCTION_NAME = ON_CLOUDTRAIL;
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
});

afterAll(() => {
  delete stages[STAGE];
  delete process.env.STAGE;
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  delete process.env.DRY_RUN;
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});

type Outcomes = { outcomes: { kind: string; refs?: Record<string, string> }[] };
const invoke = (event: unknown) => onCloudTrail(event as never, makeContext(ON_CLOUDTRAIL));
const approvalIdOf = (result: Outcomes) =>
  result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')?.refs?.approvalId;
const pageBodies = () => sns.commandCalls(PublishCommand).map((c) => String(c.args[0].input.Message));

describe('a retried delivery that recorded a pending action', () => {
  it('records no second pending action: the retry pages the one it recorded, with the same id', async () => {
    // Arrange: the first delivery records the pending remediation, then its page fails.
    const record = cloudTrailRecord('security-group-open-world');
    sns.on(PublishCommand).rejectsOnce(new Error('SNS is down')).resolves({ MessageId: 'm-2' });
    const failed = await invoke(record).catch((e: unknown) => e as Error);
    expect(failed).toBeInstanceOf(Error);
    const [first] = table.approvals();
    // Act: Lambda retries the same event.
    const retried = (await invoke(record)) as Outcomes;
    // Assert
    expect(table.approvals()).toHaveLength(1);
    expect(approvalIdOf(retried)).toBe(first?.approvalId);
    expect(pageBodies().at(-1)).toContain(`"approvalId":"${String(first?.approvalId)}"`);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it('records its own pending action for another record of the same change (another event)', async () => {
    // Arrange
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await invoke(cloudTrailRecord('security-group-open-world'));
    // Act
    await invoke(cloudTrailRecord('security-group-open-world', { id: 'another-delivery', eventID: 'e-2' }));
    // Assert
    expect(table.approvals()).toHaveLength(2);
  });

  it('records a new pending action when the one the first attempt recorded has expired', async () => {
    // Arrange
    const record = cloudTrailRecord('security-group-open-world');
    sns.on(PublishCommand).rejectsOnce(new Error('SNS is down')).resolves({ MessageId: 'm-2' });
    await invoke(record).catch(() => undefined);
    for (const item of table.approvalRecords()) item.expiresAt = Math.floor(Date.now() / 1000) - 1;
    // Act
    const retried = (await invoke(record)) as Outcomes;
    // Assert
    expect(table.approvals()).toHaveLength(2);
    expect(approvalIdOf(retried)).not.toBe(table.approvals()[0]?.approvalId);
  });
});
