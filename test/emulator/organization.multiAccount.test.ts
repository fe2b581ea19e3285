import { readFileSync } from 'node:fs';
import {
  CloudFormationClient,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CloudTrailClient,
  CreateTrailCommand,
  GetTrailStatusCommand,
  StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { DEFAULT_AMI } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { mockRunbookStarts, stack, useEmulatedStack } from '../support/emulator.ts';
import { type CloudTrailRecord, cloudTrailRecord } from '../support/events/index.ts';

// An organization in moto: the central account (moto's default, where the stack, its table and topic
// are), members A and B in an OU the member-roles StackSet targets, and C in the organization but
// outside that OU (no member stack). moto neither enforces the bus policy nor forwards `account`, so the
// handler is invoked in the central account with each member's event as its rule would forward it.
// An assumed role's credentials act in the role's account in moto, as in AWS.

const CENTRAL = '123456789012';
const STACK = 'ops-autopilot-org';
const HOME = 'us-east-1';

let handler: typeof import('#functions/onCloudTrail/handler.ts').handler;
let alarmHandler: typeof import('#functions/onAlarm/handler.ts').handler;
// moto has no SSM Automation: runbook starts are mocked, parameters (modes, kill switch) are moto's.
const runbooks = mockClient(SSMClient);
const invokeCentral = async (record: CloudTrailRecord) =>
  (await handler(
    record as never,
    makeContext('ops-autopilot-org-onCloudTrail', { account: CENTRAL, region: HOME }),
  )) as PipelineResult;

useEmulatedStack(STACK);

/** A client of `account` for arranging and checking (moto's account header): never the handler's. */
function inAccount<C extends object>(client: C, account: string): C {
  type Next = (args: { request: unknown }) => Promise<unknown>;
  const header = (next: Next) => (args: { request: unknown }) => {
    (args.request as { headers: Record<string, string> }).headers['x-moto-account-id'] = account;
    return next(args);
  };
  // Every SDK client has a middleware stack; its types differ per client, the header does not.
  (client as unknown as { middlewareStack: { add(m: typeof header, o: object): void } }).middlewareStack.add(
    header,
    { step: 'build', name: 'motoAccountForTests' },
  );
  return client;
}

interface Organization {
  a: string;
  b: string;
  c: string;
}

/** The organization, its OU of members A and B, outsider C, and the member-roles StackSet on the OU. */
async function organizationWithMemberRoles(): Promise<Organization> {
  const orgs = new OrganizationsClient({});
  await orgs.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const root = (await orgs.send(new ListRootsCommand({}))).Roots?.[0]?.Id as string;
  const ou = (await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: root, Name: 'workloads' })))
    .OrganizationalUnit?.Id as string;
  const account = async (name: string) =>
    (
      await orgs.send(
        new CreateAccountCommand({ AccountName: name, Email: `${name}-${crypto.randomUUID()}@example.com` }),
      )
    ).CreateAccountStatus?.AccountId as string;
  const [a, b, c] = [await account('member-a'), await account('member-b'), await account('outsider-c')];
  for (const member of [a, b]) {
    await orgs.send(
      new MoveAccountCommand({ AccountId: member, SourceParentId: root, DestinationParentId: ou }),
    );
  }
  const cloudformation = new CloudFormationClient({});
  await cloudformation.send(
    new CreateStackSetCommand({
      StackSetName: `${STACK}-member-roles`,
      TemplateBody: readFileSync('deploy/org/org/member-roles.json', 'utf8'),
      Parameters: [{ ParameterKey: 'CentralAccountId', ParameterValue: CENTRAL }],
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      CallAs: 'DELEGATED_ADMIN',
    }),
  );
  await cloudformation.send(
    new CreateStackInstancesCommand({
      StackSetName: `${STACK}-member-roles`,
      DeploymentTargets: { OrganizationalUnitIds: [ou] },
      Regions: [HOME],
      CallAs: 'DELEGATED_ADMIN',
    }),
  );
  return { a, b, c };
}

/** A security group in `account` with SSH open to the world, beside a rule it must keep. */
async function openGroupIn(account: string): Promise<string> {
  const ec2 = inAccount(new EC2Client({}), account);
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `g-${crypto.randomUUID()}`, Description: 'test' }),
  );
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: '0.0.0.0/0' }, { CidrIp: '10.0.0.0/8' }],
        },
      ],
    }),
  );
  return GroupId as string;
}

async function ingressOf(account: string, groupId: string): Promise<string[]> {
  const res = await inAccount(new EC2Client({}), account).send(
    new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }),
  );
  return (res.SecurityGroups?.[0]?.IpPermissions ?? [])
    .flatMap((p) => (p.IpRanges ?? []).map((r) => `${p.IpProtocol} ${p.FromPort} ${r.CidrIp}`))
    .sort();
}

/** A record as `account`'s rule forwards it: its envelope and its CloudTrail fields name that account. */
function forwardedFrom(account: string, record: CloudTrailRecord): CloudTrailRecord {
  return JSON.parse(JSON.stringify(record).replaceAll('123456789012', account)) as CloudTrailRecord;
}
const openedRecord = (account: string, groupId: string) =>
  forwardedFrom(
    account,
    cloudTrailRecord('security-group-open-world', {
      id: crypto.randomUUID(),
      withRequestParameters: { groupId },
    }),
  );

/** An idle opted-in instance in `account`: 24 quiet hourly datapoints of each metric the scan reads. */
async function idleInstanceIn(account: string): Promise<string> {
  const run = await inAccount(new EC2Client({}), account).send(
    new RunInstancesCommand({
      ImageId: DEFAULT_AMI,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'ops:auto-stop', Value: 'true' }] }],
    }),
  );
  const instance = run.Instances?.[0]?.InstanceId as string;
  const hour = 3_600_000;
  const lastHour = Math.floor(Date.now() / hour) * hour;
  const data: MetricDatum[] = (['CPUUtilization', 'NetworkIn', 'NetworkOut'] as const).flatMap((metric) =>
    Array.from({ length: 24 }, (_, h) => ({
      MetricName: metric,
      Dimensions: [{ Name: 'InstanceId', Value: instance }],
      Timestamp: new Date(lastHour - (h + 1) * hour + hour / 2),
      Value: metric === 'CPUUtilization' ? 1 : 20_000,
      Unit: metric === 'CPUUtilization' ? ('Percent' as const) : ('Bytes' as const),
    })),
  );
  const cloudwatch = inAccount(new CloudWatchClient({}), account);
  for (let from = 0; from < data.length; from += 20) {
    await cloudwatch.send(
      new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: data.slice(from, from + 20) }),
    );
  }
  return instance;
}

const stateOf = async (account: string, instance: string) =>
  (
    await inAccount(new EC2Client({}), account).send(
      new DescribeInstancesCommand({ InstanceIds: [instance] }),
    )
  ).Reservations?.[0]?.Instances?.[0]?.State?.Name;

/** One message of the idle scan's queue for (`account`, `region`) of `run`, as its event source mapping delivers it. */
const scanTargetDelivery = (account: string, region: string, run: string) => ({
  Records: [
    {
      messageId: crypto.randomUUID(),
      receiptHandle: 'handle',
      body: JSON.stringify({
        kind: 'idle-scan-target',
        run,
        scheduledAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        account,
        region,
      }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${HOME}:${CENTRAL}:${STACK}-idle-scan-targets`,
      awsRegion: HOME,
    },
  ],
});

const ssm = () => new SSMClient({});
const setMode = (name: string, value: string) =>
  ssm().send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));

let org: Organization;

/** Runs `work` on the org stage with the tampering remediation on, as an operator may turn it on. */
async function withTamperingRemediated<T>(work: () => Promise<T>): Promise<T> {
  const configured = stages.org as StageConfigInput;
  stages.org = { ...configured, cloudTrail: { detections: { 'cloudtrail-tampering': { remediate: true } } } };
  resetConfigForTests();
  try {
    return await work();
  } finally {
    stages.org = configured;
    resetConfigForTests();
  }
}

beforeAll(async () => {
  ({ handler } = await import('#functions/onCloudTrail/handler.ts'));
  ({ handler: alarmHandler } = await import('#functions/onAlarm/handler.ts'));
});

beforeEach(async () => {
  mockRunbookStarts(runbooks, 'exec-1');
  process.env.STAGE = 'org';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  resetKillSwitchForTests();
  resetMemberCredentialsForTests();
  resetServedAccountsForTests();
  org = await organizationWithMemberRoles();
  // Every account live but for what a test changes; the stage's default (dry-run) is another test's.
  for (const account of [CENTRAL, org.a, org.b, org.c]) {
    await setMode(`/ops-autopilot/org/accounts/${account}/mode`, 'live');
  }
});

describe('an organization in moto: a central account acting in members A and B', () => {
  it('puts the member roles in both members by the StackSet, and not in the account outside the OU', async () => {
    // Act
    const roleIn = (account: string) =>
      inAccount(new IAMClient({}), account)
        .send(new GetRoleCommand({ RoleName: 'ops-autopilot-org-member' }))
        .then(
          (r) => r.Role?.Arn,
          () => undefined,
        );
    // Assert
    expect(await roleIn(org.a)).toBe(`arn:aws:iam::${org.a}:role/ops-autopilot-org-member`);
    expect(await roleIn(org.b)).toBe(`arn:aws:iam::${org.b}:role/ops-autopilot-org-member`);
    expect(await roleIn(org.c)).toBeUndefined();
  });

  it('revokes a world-open ingress in member A only, and the page names A (id, name and region)', async () => {
    // Arrange: the same rule opened in A and in B; only A's is reported.
    const inA = await openGroupIn(org.a);
    const inB = await openGroupIn(org.b);
    // Act
    const result = await invokeCentral(openedRecord(org.a, inA));
    // Assert
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')).toMatchObject({ status: 'done' });
    expect(await ingressOf(org.a, inA)).toEqual(['tcp 22 10.0.0.0/8']);
    expect(await ingressOf(org.b, inB)).toEqual(['tcp 22 0.0.0.0/0', 'tcp 22 10.0.0.0/8']);
    const pages = await stack.readPages(true);
    expect(pages).toHaveLength(1);
    expect(pages[0]?.body).toContain(`Account ${org.a}, region ${HOME}`);
    expect(pages[0]?.body).toContain('account name: member-a');
  });

  it("acts on nothing when A's event names a resource of B, and says why", async () => {
    // Arrange: B's trail stopped; a record in A's event says its logging stopped (tampering remediated).
    const trails = inAccount(new CloudTrailClient({}), org.b);
    const bucket = `trail-${crypto.randomUUID()}`;
    await inAccount(new S3Client({}), org.b).send(new CreateBucketCommand({ Bucket: bucket }));
    const trailArn = (await trails.send(new CreateTrailCommand({ Name: 'management', S3BucketName: bucket })))
      .TrailARN as string;
    await trails.send(new StopLoggingCommand({ Name: 'management' }));
    const record = forwardedFrom(
      org.a,
      cloudTrailRecord('cloudtrail-stop-logging', { id: crypto.randomUUID() }),
    );
    record.detail.requestParameters = { name: trailArn };
    // Act
    const result = await withTamperingRemediated(() => invokeCentral(record));
    // Assert
    expect((await trails.send(new GetTrailStatusCommand({ Name: 'management' }))).IsLogging).toBe(false);
    const refusals = [...result.outcomes, ...result.notes].filter((o) => o.reason === 'out-of-scope');
    expect(refusals.map((r) => r.detail).join(' ')).toContain(org.b);
    expect(
      result.outcomes.filter((o) => o.kind === 'cloudtrail.start-logging' && o.status === 'done'),
    ).toEqual([]);
  });

  it('acts on nothing in an account without the member stack, and logs it as not served', async () => {
    // Arrange
    const inC = await openGroupIn(org.c);
    // Act
    const result = await invokeCentral(openedRecord(org.c, inC));
    // Assert
    expect(await ingressOf(org.c, inC)).toEqual(['tcp 22 0.0.0.0/0', 'tcp 22 10.0.0.0/8']);
    expect(result.notes).toEqual([expect.objectContaining({ reason: 'account-not-served' })]);
    const logged = (await stack.scanTable()).filter((r) => r.reason === 'account-not-served');
    expect(logged.map((r) => String(r.detail))).toEqual([
      expect.stringContaining(`account ${org.c} is not served`),
    ]);
  });

  it("stops everything with the stage's kill switch, even in a member set live", async () => {
    // Arrange
    const inA = await openGroupIn(org.a);
    await setMode('/ops-autopilot/org/mode', 'dry-run');
    // Act
    const result = await invokeCentral(openedRecord(org.a, inA));
    // Assert
    expect(await ingressOf(org.a, inA)).toEqual(['tcp 22 0.0.0.0/0', 'tcp 22 10.0.0.0/8']);
    expect(result.outcomes.find((o) => o.kind === 'ec2.revoke-ingress')).toMatchObject({
      status: 'skipped',
      reason: 'dry-run',
    });
    expect(result.forcedDryRun).toContain('/ops-autopilot/org/mode');
  });

  it("starts the restart runbook inside member A, as A's runbook role, on A's opted-in instance", async () => {
    // Arrange: the instance exists in A only, so its opt-in tag is found only by reading in A.
    const launched = await inAccount(new EC2Client({}), org.a).send(
      new RunInstancesCommand({
        ImageId: DEFAULT_AMI,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }] },
        ],
      }),
    );
    const instance = launched.Instances?.[0]?.InstanceId as string;
    const alarm = makeAlarmEvent({
      namespace: 'AWS/EC2',
      metricName: 'StatusCheckFailed_Instance',
      dimensions: { InstanceId: instance },
    });
    const event = JSON.parse(JSON.stringify(alarm).replaceAll('123456789012', org.a));
    // Act
    await alarmHandler(event, makeContext('ops-autopilot-org-onAlarm', { account: CENTRAL, region: HOME }));
    // Assert
    const starts = runbooks.commandCalls(StartAutomationExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]?.args[0].input.Parameters).toEqual({
      InstanceId: [instance],
      AutomationAssumeRole: [`arn:aws:iam::${org.a}:role/ops-autopilot-org-member-runbooks`],
    });
    // Sent with the member role's credentials (moto's STS issued them for A), not the central ones.
    const [start] = starts;
    if (start === undefined) throw new Error('no runbook started');
    const config = (start.thisValue as SSMClient).config;
    expect((await config.credentials()).accessKeyId).not.toBe(process.env.AWS_ACCESS_KEY_ID);
    expect(await config.region()).toBe(HOME);
  });

  it('stops the idle opted-in instance of a live member and only previews that of a dry-run one', async () => {
    // Arrange: A live, B dry-run, the central account live; each idle instance in HOME, none in the other region.
    const inA = await idleInstanceIn(org.a);
    const inB = await idleInstanceIn(org.b);
    await setMode(`/ops-autopilot/org/accounts/${org.b}/mode`, 'dry-run');
    const { handler: scanHandler } = await import('#functions/stopIdleInstances/handler.ts');
    const context = makeContext('ops-autopilot-org-stopIdleInstances', { account: CENTRAL, region: HOME });
    const run = crypto.randomUUID();
    // Act: one scan run over both listed regions of each member: one summary page per account.
    for (const account of [org.a, org.b]) {
      for (const region of [HOME, 'eu-west-1']) {
        await scanHandler(scanTargetDelivery(account, region, run) as never, context);
      }
    }
    // Assert
    expect(await stateOf(org.a, inA)).toMatch(/^stopp(ing|ed)$/);
    expect(await stateOf(org.b, inB)).toBe('running');
    const bodies = (await stack.readPages(true)).map((p) => p.body);
    expect(bodies).toHaveLength(2);
    const pagesOf = (account: string) => bodies.filter((b) => b.includes(`account ${account}`));
    const [ofA, ofB] = [pagesOf(org.a), pagesOf(org.b)];
    expect(ofA).toHaveLength(1);
    expect(ofA[0]).toContain(`Region ${HOME}: stopped 1 instance(s): ${inA}`);
    expect(ofA[0]).toContain('Region eu-west-1: nothing to stop');
    expect(ofB).toHaveLength(1);
    expect(ofB[0]).toContain(`Region ${HOME}: would stop 1 instance(s): ${inB}`);
    expect(ofB[0]).toContain(`Dry-run for account ${org.b}`);
  });
});
