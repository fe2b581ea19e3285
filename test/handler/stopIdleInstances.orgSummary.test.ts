/**
 * An organization's idle scan pages ONE summary per account and run (docs/ORGANIZATION.md, "One summary
 * page per account"): each region's run records its result in the account's fan-in record, and only
 * the run that completes it pages, listing every region; the next scheduled run's sweep pages the
 * account of a region that never finished, once. Mocked clients; the state table is an in-memory one
 * that applies the fan-in's, the sweep index's and the page claim's conditional updates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { resetAccountNamesForTests } from '#shared/organization/accountNames.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type Latch, latch } from '../support/latch.ts';

const aws = await mockAwsClients();
const ec2 = aws.of(EC2Client);
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
const documents = aws.of(DynamoDBDocumentClient);

const ROOT = join(import.meta.dirname, '..', '..');
const scheduled = JSON.parse(
  readFileSync(join(ROOT, 'events', 'stopIdleInstances', 'scheduled-event.json'), 'utf8'),
) as { id: string; account: string; time: string };
const CENTRAL = scheduled.account;
const MEMBER = '111111111111';
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${CENTRAL}:ops-autopilot-org-idle-scan-targets`;
const instanceIn = (region: string) => `i-0${region.replace(/-/g, '').padEnd(16, '0').slice(0, 16)}`;

// ── The in-memory state table: the conditional updates these paths send, applied atomically. ──
const table = new Map<string, Record<string, unknown>>();
/** Holds the fan-in's conditional updates until `count` of them have arrived: they then race. */
let holdFanIn: { count: number; all: Latch } | undefined;
const conditionalFailure = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

async function update(input: UpdateCommandInput) {
  const id = String(input.Key?.id);
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const expression = input.UpdateExpression ?? '';
  const item = structuredClone(table.get(id) ?? { id });
  if (id.includes('#scan-fan-in#')) {
    if (holdFanIn && holdFanIn.count > 0) {
      holdFanIn.count--;
      if (holdFanIn.count === 0) holdFanIn.all.open();
      await holdFanIn.all.opened;
    }
    const current = structuredClone(table.get(id) ?? { id });
    if (expression.startsWith('SET closedAt')) {
      const open = current.regionsDone !== undefined && current.closedAt === undefined;
      const unfinished = open && Number(current.regionsDone) < Number(values[':expected']);
      if (!unfinished && current.closedBy !== values[':by']) throw conditionalFailure();
      Object.assign(current, { closedAt: values[':now'], closedBy: values[':by'] });
    } else {
      const region = names['#region'] as string;
      if (current[region] !== undefined || current.closedAt !== undefined) throw conditionalFailure();
      current[region] = values[':result'];
      current.regionsExpected = values[':expected'];
      current.accountPage ??= values[':base'];
      current.regionsDone = Number(current.regionsDone ?? 0) + 1;
    }
    table.set(id, current);
    return { Attributes: structuredClone(current) };
  }
  if (id.includes('#scan-fan-in-runs#')) {
    item[names['#run'] as string] = values[':entry'];
  } else if (id.includes('#page#')) {
    // The page claim: an incident opens once; its later deliveries are counted as repeats.
    if (expression.startsWith('SET windowEndsAt = :end')) {
      if (item.windowEndsAt !== undefined) throw conditionalFailure();
      Object.assign(item, { windowEndsAt: values[':end'], pagedBy: values[':cid'] });
      Object.assign(item, { lastCorrelationId: values[':cid'] });
    } else if (expression.includes('REMOVE pagedBy')) {
      // Released: SNS refused the page, so the next delivery pages.
      delete item.windowEndsAt;
      delete item.pagedBy;
    } else if (expression.includes('pageSentAt')) {
      item.pageSentAt = 1;
    } else if (expression.includes('ADD repeats')) {
      item.lastCorrelationId = values[':cid'];
      item.repeats = Number(item.repeats ?? 0) + 1;
    }
  }
  table.set(id, item);
  return { Attributes: structuredClone(item) };
}
async function get(input: GetCommandInput) {
  const item = table.get(String(input.Key?.id));
  return item ? { Item: structuredClone(item) } : {};
}

const invoke = async (event: unknown) => {
  const { handler } = await import('#functions/stopIdleInstances/handler.ts');
  return handler(event as never, makeContext('ops-autopilot-org-stopIdleInstances'));
};
const delivery = (region: string, run = scheduled.id, scheduledAt = scheduled.time) => ({
  Records: [
    {
      messageId: crypto.randomUUID(),
      receiptHandle: 'handle',
      body: JSON.stringify({ kind: 'idle-scan-target', run, scheduledAt, account: MEMBER, region }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'us-east-1',
    },
  ],
});
/** The scheduled run `hours` after the fixture's, with an id of its own. */
const scheduledLater = (hours: number) => ({
  ...scheduled,
  id: `${scheduled.id.slice(0, -4)}${String(hours).padStart(4, '0')}`,
  time: new Date(Date.parse(scheduled.time) + hours * 3600_000).toISOString().replace('.000Z', 'Z'),
});

/** Which regions have an idle opted-in instance (the others have none running). */
let idleIn = new Set(['eu-west-1', 'us-east-1']);

function memberMode(mode: string, killSwitch?: string): void {
  withoutKillSwitch(ssm);
  for (const account of [CENTRAL, MEMBER]) {
    ssm
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: mode } });
  }
  if (killSwitch) {
    ssm
      .on(GetParameterCommand, { Name: '/ops-autopilot/org/mode' })
      .resolves({ Parameter: { Value: killSwitch } });
  }
}

beforeEach(() => {
  aws.reset();
  table.clear();
  holdFanIn = undefined;
  idleIn = new Set(['eu-west-1', 'us-east-1']);
  process.env.STAGE = 'org';
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:${CENTRAL}:pages`;
  process.env.ORG_SCAN_QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/${CENTRAL}/ops-autopilot-org-idle-scan-targets`;
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  resetServedAccountsForTests();
  resetMemberCredentialsForTests();
  resetAccountNamesForTests();
  memberMode('live');
  aws
    .of(CloudFormationClient)
    .on(ListStackInstancesCommand)
    .resolves({ Summaries: [{ Account: MEMBER, Region: 'us-east-1', Status: 'CURRENT' }] });
  aws
    .of(STSClient)
    .on(AssumeRoleCommand)
    .resolves({
      Credentials: {
        AccessKeyId: `ASIA${MEMBER}`,
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3600_000),
      },
    });
  aws
    .of(OrganizationsClient)
    .on(DescribeAccountCommand)
    .resolves({ Account: { Name: 'payments-prod' } });
  aws.of(DynamoDBClient).onAnyCommand().resolves({});
  documents.onAnyCommand().resolves({});
  documents.on(UpdateCommand).callsFake(update);
  documents.on(GetCommand).callsFake(get);
  ec2.on(DescribeInstancesCommand).callsFake(async (_input, getClient) => {
    const region = await (getClient() as EC2Client).config.region();
    if (!idleIn.has(region)) return { Reservations: [] };
    const instance = {
      InstanceId: instanceIn(region),
      InstanceType: 't3.medium',
      State: { Name: 'running', Code: 16 },
      RootDeviceType: 'ebs',
      Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
    };
    return { Reservations: [{ Instances: [instance] }] };
  });
  aws
    .of(CloudWatchClient)
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 0.5 : 1000)));
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  aws.of(SQSClient).on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

afterEach(() => {
  holdFanIn?.all.open();
  delete process.env.ORG_SCAN_QUEUE_URL;
  delete process.env.DRY_RUN;
  process.env.STAGE = 'dev';
  resetConfigForTests();
});

const pagesOf = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

describe("an organization's scan run pages one summary per account", () => {
  it('pages once for two regions of one account, listing what each region stopped', async () => {
    // Act
    await invoke(delivery('eu-west-1'));
    await invoke(delivery('us-east-1'));
    // Assert
    const pages = pagesOf();
    expect(pages).toHaveLength(1);
    const body = pages[0]?.Message ?? '';
    expect(pages[0]?.Subject).toMatch(/idle scan stopped 2 instance\(s\) in account 111111111111/);
    expect(body).toContain(`Region eu-west-1: stopped 1 instance(s): ${instanceIn('eu-west-1')}`);
    expect(body).toContain(`Region us-east-1: stopped 1 instance(s): ${instanceIn('us-east-1')}`);
    expect(body).toContain('account name: payments-prod');
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(2);
  });

  it('says briefly that a region stopped nothing, and pages nothing when no region stopped anything', async () => {
    // Arrange
    idleIn = new Set(['us-east-1']);
    // Act
    await invoke(delivery('eu-west-1'));
    await invoke(delivery('us-east-1'));
    idleIn = new Set();
    await invoke(delivery('eu-west-1', 'run-quiet'));
    await invoke(delivery('us-east-1', 'run-quiet'));
    // Assert
    const pages = pagesOf();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Message).toContain('Region eu-west-1: nothing to stop');
  });

  it('does not page again for a region retried after the summary went out', async () => {
    // Arrange
    await invoke(delivery('eu-west-1'));
    await invoke(delivery('us-east-1'));
    // Act: the first region's message comes again (its deletion failed), a new delivery of it.
    await invoke(delivery('eu-west-1'));
    await invoke(delivery('us-east-1'));
    // Assert
    expect(pagesOf()).toHaveLength(1);
  });

  it("records nothing for a region whose stops failed, and pages the summary once that region's retry stops", async () => {
    // Arrange: eu-west-1 stops; EC2 then refuses us-east-1's stops on its first delivery.
    await invoke(delivery('eu-west-1'));
    const refused = Object.assign(new Error('Request limit exceeded'), { name: 'RequestLimitExceeded' });
    ec2.on(StopInstancesCommand).rejects(refused);
    const failedRun = await invoke(delivery('us-east-1')).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failedRun?.message).toContain('RequestLimitExceeded');
    expect(pagesOf()).toHaveLength(0);
    ec2.on(StopInstancesCommand).resolves({});
    // Act: its message comes back after the visibility timeout.
    await invoke(delivery('us-east-1'));
    // Assert
    const pages = pagesOf();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Message).toContain(
      `Region us-east-1: stopped 1 instance(s): ${instanceIn('us-east-1')}`,
    );
  });

  it('pages exactly one summary for two regions finishing at the same moment', async () => {
    // Arrange
    holdFanIn = { count: 2, all: latch() };
    // Act
    await Promise.all([invoke(delivery('eu-west-1')), invoke(delivery('us-east-1'))]);
    // Assert
    expect(pagesOf()).toHaveLength(1);
  });

  it("says 'would stop' for a dry-run member, with no StopInstances call", async () => {
    // Arrange
    memberMode('dry-run');
    // Act
    await invoke(delivery('eu-west-1'));
    await invoke(delivery('us-east-1'));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    const [page, ...others] = pagesOf();
    expect(others).toHaveLength(0);
    expect(page?.Subject).toMatch(/idle scan would stop 2 instance\(s\)/);
    expect(page?.Message).toContain(`Region eu-west-1: would stop 1 instance(s): ${instanceIn('eu-west-1')}`);
    expect(page?.Message).toContain(`Dry-run for account ${MEMBER}`);
  });

  it('lists a region stopped before the kill switch and one previewed after it in one summary', async () => {
    // Act
    await invoke(delivery('eu-west-1'));
    memberMode('live', 'dry-run');
    await invoke(delivery('us-east-1'));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(1);
    const [page, ...others] = pagesOf();
    expect(others).toHaveLength(0);
    expect(page?.Subject).toMatch(/stopped 1, would stop 1 instance\(s\)/);
    expect(page?.Message).toContain('Forced dry-run by /ops-autopilot/org/mode');
  });
});

describe('the sweep for a region that never finished', () => {
  /** The first run fans out and one region finishes; the other's message is parked. */
  async function runWithParkedRegion(): Promise<void> {
    await invoke(scheduled);
    await invoke(delivery('eu-west-1'));
  }

  it("pages the account's summary once, with the parked region not read, at the next run after the retries", async () => {
    // Arrange
    await runWithParkedRegion();
    // Act: runs 1 and 2 hours later are within the retries; the run 3 hours later sweeps, and again an hour on.
    await invoke(scheduledLater(1));
    await invoke(scheduledLater(2));
    expect(pagesOf()).toHaveLength(0);
    await invoke(scheduledLater(3));
    await invoke(scheduledLater(4));
    // Assert
    const pages = pagesOf();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Message).toContain(
      `Region eu-west-1: stopped 1 instance(s): ${instanceIn('eu-west-1')}`,
    );
    expect(pages[0]?.Message).toContain('Region us-east-1: not read (its scan failed after its retries)');
    expect(pages[0]?.Message).toContain('account name: payments-prod');
  });

  it('pages no second summary when the parked region finishes late, after the sweep', async () => {
    // Arrange
    await runWithParkedRegion();
    await invoke(scheduledLater(3));
    // Act
    await invoke(delivery('us-east-1'));
    // Assert
    expect(pagesOf()).toHaveLength(1);
    expect(pagesOf()[0]?.Message).toContain('Region us-east-1: not read');
  });

  it('pages the summary on the retry of a sweep whose page SNS refused', async () => {
    // Arrange
    await runWithParkedRegion();
    const refused = Object.assign(new Error('Rate exceeded'), {
      name: 'Throttling',
      $metadata: { httpStatusCode: 400 },
    });
    sns.on(PublishCommand).rejectsOnce(refused).resolves({ MessageId: 'm-2' });
    const sweeping = scheduledLater(3);
    // Act
    const first = await invoke(sweeping).then(
      () => undefined,
      (error: Error) => error,
    );
    await invoke(sweeping);
    await invoke(delivery('us-east-1'));
    // Assert: the refused publish, then the retry's, and nothing from the late region.
    expect(first?.message).toContain('Rate exceeded');
    const sent = pagesOf();
    expect(sent).toHaveLength(2);
    expect(sent.every((p) => p.Message?.includes('Region us-east-1: not read'))).toBe(true);
  });

  it('pages one summary when the late region and the sweep close the record at the same moment', async () => {
    // Arrange
    await runWithParkedRegion();
    holdFanIn = { count: 2, all: latch() };
    // Act
    await Promise.all([invoke(scheduledLater(3)), invoke(delivery('us-east-1'))]);
    // Assert
    expect(pagesOf()).toHaveLength(1);
  });
});
