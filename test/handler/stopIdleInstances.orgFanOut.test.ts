/**
 * An organization's idle scan (stage org): the scheduled run queues one message per served (account,
 * region) and scans nothing itself; each message is one run of its own, decided by its target account's
 * mode and acted on with that account's member role, so one slow or broken account holds up no other.
 * Mocked clients: the served accounts are the StackSet's CURRENT instances (ListStackInstances), each
 * member's credentials come from STS, and a call's account is told by the credentials its client holds.
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
import { DynamoDBDocumentClient, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { resetAccountNamesForTests } from '#shared/organization/accountNames.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import type { ScanTarget } from '#shared/organization/scanTargets.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { latch } from '../support/latch.ts';

const aws = await mockAwsClients();
const ec2 = aws.of(EC2Client);
const cloudwatch = aws.of(CloudWatchClient);
const sns = aws.of(SNSClient);
const sqs = aws.of(SQSClient);
const ssm = aws.of(SSMClient);
const sts = aws.of(STSClient);
const cloudformation = aws.of(CloudFormationClient);

const ROOT = join(import.meta.dirname, '..', '..');
const scheduled = JSON.parse(
  readFileSync(join(ROOT, 'events', 'stopIdleInstances', 'scheduled-event.json'), 'utf8'),
) as { id: string; account: string; time: string };
const CENTRAL = scheduled.account;
const GOOD = '111111111111';
const SLOW = '222222222222';
const BROKEN = '333333333333';
/** In the organization, but with no current instance of the member-roles StackSet. */
const UNSERVED = '444444444444';
const REGIONS = ['eu-west-1', 'us-east-1'];
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${CENTRAL}:ops-autopilot-org-idle-scan-targets`;
const QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/${CENTRAL}/ops-autopilot-org-idle-scan-targets`;

/** A member's assumed credentials carry its account id in the access key: a call's account is read back. */
const keyOf = (account: string) => `ASIA${account}`;
/** The account and region of the client a call went out on: the central account's when nothing was assumed. */
async function whereCalled(client: unknown): Promise<{ account: string; region: string }> {
  const config = (
    client as { config: { region(): Promise<string>; credentials(): Promise<{ accessKeyId: string }> } }
  ).config;
  const key = (await config.credentials()).accessKeyId;
  const account = key.startsWith('ASIA') ? key.slice(4) : CENTRAL;
  return { account, region: await config.region() };
}
const instanceOf = (account: string) => `i-0${account.slice(0, 16).padEnd(16, '0')}`;

const invoke = async (event: unknown) => {
  const { handler } = await import('#functions/stopIdleInstances/handler.ts');
  return handler(event as never, makeContext('ops-autopilot-org-stopIdleInstances'));
};

/** One message of the scan queue, as the event source mapping delivers it (batch size 1). */
const delivery = (target: ScanTarget) => ({
  Records: [
    {
      messageId: crypto.randomUUID(),
      receiptHandle: 'handle',
      body: JSON.stringify({
        kind: 'idle-scan-target',
        run: scheduled.id,
        scheduledAt: scheduled.time,
        ...target,
      }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'us-east-1',
    },
  ],
});

/**
 * Each account's mode parameter (absent: the stage's default, dry-run); the kill switch is set when
 * `killSwitch` is, and absent otherwise. Every account is live unless a test says otherwise.
 */
function withMode(modes: Record<string, string>, killSwitch?: string): void {
  withoutKillSwitch(ssm);
  for (const account of [CENTRAL, GOOD, SLOW, BROKEN, UNSERVED]) {
    ssm
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: modes[account] ?? 'live' } });
  }
  if (killSwitch) {
    ssm
      .on(GetParameterCommand, { Name: '/ops-autopilot/org/mode' })
      .resolves({ Parameter: { Value: killSwitch } });
  }
}

let slowAccount = latch();
let slowAccountAsked = latch();

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(aws.of(SSMClient));
  process.env.STAGE = 'org';
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:${CENTRAL}:pages`;
  process.env.ORG_SCAN_QUEUE_URL = QUEUE_URL;
  delete process.env.DRY_RUN;
  resetConfigForTests();
  slowAccount = latch();
  slowAccountAsked = latch();
  withMode({});
  resetServedAccountsForTests();
  resetMemberCredentialsForTests();
  resetAccountNamesForTests();
  cloudformation.on(ListStackInstancesCommand).resolves({
    Summaries: [GOOD, SLOW, BROKEN].map((Account) => ({ Account, Region: 'us-east-1', Status: 'CURRENT' })),
  });
  sts.on(AssumeRoleCommand).callsFake(async (input: { RoleArn?: string }) => {
    const account = input.RoleArn?.split(':')[4] ?? '';
    if (account === BROKEN) {
      throw Object.assign(new Error(`not authorized to perform sts:AssumeRole in ${BROKEN}`), {
        name: 'AccessDenied',
      });
    }
    return {
      Credentials: {
        AccessKeyId: keyOf(account),
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3600_000),
      },
    };
  });
  aws
    .of(OrganizationsClient)
    .on(DescribeAccountCommand)
    .resolves({ Account: { Name: 'member' } });
  for (const m of [aws.of(DynamoDBClient), aws.of(DynamoDBDocumentClient)]) m.onAnyCommand().resolves({});
  // Each account's other listed region has finished with nothing to stop: the target's run completes
  // its account's fan-in and pages the summary (stopIdleInstances.orgSummary.test.ts joins regions).
  aws
    .of(DynamoDBDocumentClient)
    .on(UpdateCommand)
    .callsFake(
      async ({
        Key,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }: UpdateCommandInput) =>
        String(Key?.id).includes('#scan-fan-in#')
          ? {
              Attributes: {
                [String(names?.['#region'])]: values?.[':result'],
                accountPage: values?.[':base'],
                regionsDone: 2,
              },
            }
          : {},
    );
  ec2.on(DescribeInstancesCommand).callsFake(async (_input, getClient) => {
    const { account } = await whereCalled(getClient());
    if (account === SLOW) {
      slowAccountAsked.open();
      await slowAccount.opened;
    }
    return {
      Reservations: [
        {
          Instances: [
            {
              InstanceId: instanceOf(account),
              InstanceType: 't3.medium',
              State: { Name: 'running', Code: 16 },
              RootDeviceType: 'ebs',
              Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
            },
          ],
        },
      ],
    };
  });
  cloudwatch
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 0.5 : 1000)));
  ec2.on(StopInstancesCommand).resolves({});
  ec2.on(CreateTagsCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

afterEach(() => {
  slowAccount.open();
  delete process.env.ORG_SCAN_QUEUE_URL;
  process.env.STAGE = 'dev';
  resetConfigForTests();
});

const pagesOf = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

describe("an organization's scheduled idle scan", () => {
  it('queues one message per served account and region, at most 10 a call, and scans nothing itself', async () => {
    // Act
    await invoke(scheduled);
    // Assert
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    const bodies = calls.flatMap((c) => (c.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}')));
    expect(calls.every((c) => c.QueueUrl === QUEUE_URL && (c.Entries ?? []).length <= 10)).toBe(true);
    expect(bodies.map((b) => `${b.account}/${b.region}`).sort()).toEqual(
      [CENTRAL, GOOD, SLOW, BROKEN].flatMap((a) => REGIONS.map((r) => `${a}/${r}`)).sort(),
    );
    expect(bodies.every((b) => b.kind === 'idle-scan-target' && b.run === scheduled.id)).toBe(true);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(pagesOf()).toHaveLength(0);
  });

  it('lets the other accounts finish and page while one account is slow and another broken', async () => {
    // Arrange
    const settled = new Set<string>();
    const run = (account: string) => {
      const p = invoke(delivery({ account, region: 'us-east-1' }));
      p.then(
        () => settled.add(account),
        () => settled.add(account),
      );
      return p;
    };
    // Act: the three targets' messages at once, as the event source mapping may deliver them.
    const slow = run(SLOW);
    const good = run(GOOD);
    const broken = run(BROKEN);
    await slowAccountAsked.opened;
    await good;
    const brokenError = await broken.then(
      () => undefined,
      (error: Error) => error,
    );
    // Assert: the good account paged and the broken one failed (its message is retried, then parked)
    // while the slow account's scan was still waiting.
    expect(settled.has(SLOW)).toBe(false);
    expect(brokenError?.message).toContain(`not authorized to perform sts:AssumeRole in ${BROKEN}`);
    const pages = pagesOf();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Message).toContain(GOOD);
    expect(pages[0]?.Subject).toMatch(/would stop 1 instance/);
    // Act: the slow account answers at last.
    slowAccount.open();
    await slow;
    // Assert: one summary page per account of the run that would stop something.
    const bodies = pagesOf().map((p) => p.Message ?? '');
    expect(bodies).toHaveLength(2);
    expect(bodies.filter((b) => b.includes(GOOD))).toHaveLength(1);
    expect(bodies.filter((b) => b.includes(SLOW))).toHaveLength(1);
  });

  it('stops, on a dry-run stage, nothing in any account and pages what it would stop', async () => {
    // Act
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(pagesOf()[0]?.Message).toContain(instanceOf(GOOD));
  });

  it("stops, live, the target account's idle instance with that account's clients, none of the central account's", async () => {
    // Arrange
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    // Act
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    const stops = ec2.commandCalls(StopInstancesCommand);
    expect(stops.map((c) => c.args[0].input.InstanceIds)).toEqual([[instanceOf(GOOD)]]);
    expect(await Promise.all(stops.map((c) => whereCalled(c.thisValue)))).toEqual([
      { account: GOOD, region: 'eu-west-1' },
    ]);
  });

  it('scans the central account in place, in the target region, with nothing assumed', async () => {
    // Act
    await invoke(delivery({ account: CENTRAL, region: 'eu-west-1' }));
    // Assert
    const clients = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.thisValue as EC2Client);
    expect(clients).toHaveLength(1);
    const [client] = clients as [EC2Client];
    expect(await whereCalled(client)).toEqual({ account: CENTRAL, region: 'eu-west-1' });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('refuses a message from a queue of another account, naming the field, and scans nothing', async () => {
    // Arrange
    const foreign = delivery({ account: GOOD, region: 'us-east-1' });
    (foreign.Records[0] as { eventSourceARN: string }).eventSourceARN =
      'arn:aws:sqs:us-east-1:999999999999:ops-autopilot-org-idle-scan-targets';
    // Act
    const act = invoke(foreign);
    // Assert
    await expect(act).rejects.toThrow(/Records\.0\.eventSourceARN \(account\)/);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('refuses a target in a region the organization does not list, naming the field', async () => {
    // Act
    const act = invoke(delivery({ account: GOOD, region: 'ap-south-1' }));
    // Assert
    await expect(act).rejects.toThrow(
      /Records\.0\.body\.region: ap-south-1 is not one of organization\.regions/,
    );
  });
});

describe("a member target's run obeys that member's mode, not the central account's", () => {
  beforeEach(() => {
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
  });

  it('queues only the accounts with a current member stack, and the central account', async () => {
    // Arrange
    cloudformation.on(ListStackInstancesCommand).resolves({
      Summaries: [
        { Account: GOOD, Region: 'us-east-1', Status: 'CURRENT' },
        { Account: UNSERVED, Region: 'us-east-1', Status: 'INOPERABLE' },
      ],
    });
    // Act
    await invoke(scheduled);
    // Assert
    const bodies = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? '{}')));
    expect(bodies.map((b) => `${b.account}/${b.region}`).sort()).toEqual(
      [CENTRAL, GOOD].flatMap((a) => REGIONS.map((r) => `${a}/${r}`)).sort(),
    );
  });

  it("stops a live member's idle opted-in instance with that member's credentials and region while the central account is dry-run", async () => {
    // Arrange
    withMode({ [CENTRAL]: 'dry-run', [GOOD]: 'live' });
    // Act
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    const stops = ec2.commandCalls(StopInstancesCommand);
    expect(stops.map((c) => c.args[0].input.InstanceIds)).toEqual([[instanceOf(GOOD)]]);
    expect(await Promise.all(stops.map((c) => whereCalled(c.thisValue)))).toEqual([
      { account: GOOD, region: 'eu-west-1' },
    ]);
    const assumed = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn);
    expect(assumed).toEqual([`arn:aws:iam::${GOOD}:role/ops-autopilot-org-member`]);
  });

  it("only previews a dry-run member's idle instance while the central account is live: no StopInstances call", async () => {
    // Arrange
    withMode({ [CENTRAL]: 'live', [GOOD]: 'dry-run' });
    // Act
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    const [page] = pagesOf();
    expect(page?.Message).toContain(instanceOf(GOOD));
    expect(page?.Message).toContain(`Dry-run for account ${GOOD}`);
    // The subject agrees with the body: the plan is written as the dry run it turned out to be.
    expect(page?.Subject).toMatch(/idle scan would stop 1 instance/);
  });

  it('reads, assumes, stops and pages nothing for a member that is off', async () => {
    // Arrange
    withMode({ [GOOD]: 'off' });
    // Act
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(pagesOf()).toHaveLength(0);
  });

  it('acts on nothing for a message of an account that is not served, and pages that it is not', async () => {
    // Act
    await invoke(delivery({ account: UNSERVED, region: 'eu-west-1' }));
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    const pages = pagesOf();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Message).toContain(`account ${UNSERVED} is not served`);
  });

  it("stops nothing in a live member while the stage's kill switch is set to dry-run", async () => {
    // Arrange
    withMode({ [GOOD]: 'live' }, 'dry-run');
    // Act
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(0);
    const [page] = pagesOf();
    expect(page?.Message).toContain('Forced dry-run by /ops-autopilot/org/mode');
    expect(page?.Subject).toMatch(/idle scan would stop 1 instance/);
  });

  it("stops, live, in the other members while one member's role cannot be assumed", async () => {
    // Act
    const broken = await invoke(delivery({ account: BROKEN, region: 'eu-west-1' })).then(
      () => undefined,
      (error: Error) => error,
    );
    slowAccount.open();
    await invoke(delivery({ account: SLOW, region: 'eu-west-1' }));
    await invoke(delivery({ account: GOOD, region: 'eu-west-1' }));
    // Assert
    expect(broken?.message).toContain(
      `could not assume arn:aws:iam::${BROKEN}:role/ops-autopilot-org-member`,
    );
    const stopped = await Promise.all(
      ec2.commandCalls(StopInstancesCommand).map((c) => whereCalled(c.thisValue)),
    );
    expect(stopped.map((w) => w.account).sort()).toEqual([GOOD, SLOW]);
  });
});
