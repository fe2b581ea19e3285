import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetAccountNamesForTests } from '#shared/organization/accountNames.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { resetChangeFreezeForTests } from '#shared/runtime/changeFreeze.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';
import type { AwsMocks } from '../../tools/awsMocks.ts';
import { hourlyMetricAnswer } from '../../tools/local/fleet.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type ApprovalTable, approvalTable } from './approvalTable.ts';

/**
 * The handler tests of approvals recorded in a member account of an organization's stage: a live stage
 * whose owners ask for approval (the idle stop, a remediation), its StackSet's served accounts, each
 * account's mode, the member role handing out credentials that name their account (so a call's account
 * is read back from the client it went out on), and a member fleet of idle instances.
 */

export const STAGE = 'approve-member-test';
/** The central account the functions run in (the home region is us-east-1). */
export const CENTRAL = '111111111111';
export const MEMBER_A = '222222222222';
export const MEMBER_B = '333333333333';
export const REGIONS = ['us-east-1', 'eu-west-1'];
export const DETECTION = 'security-group-open-to-world';
export const APPROVE_ACTION = `ops-autopilot-${STAGE}-approveAction`;
export const MEMBER_ROLE = `ops-autopilot-${STAGE}-member`;
export const BUDGET = `ops-autopilot-${STAGE}#shared#stop-budget`;
export const KILL_SWITCH = `/ops-autopilot/${STAGE}/mode`;
export const modeParameter = (account: string) => `/ops-autopilot/${STAGE}/accounts/${account}/mode`;

/** The stage: live, every member live by default; the idle stop, a remediation, a runbook and the backup retry ask for approval. */
/** Puts back the stage and environment memberApprovalStage set (each member file's afterAll). */
export function leaveMemberApprovalStage(): void {
  delete stages[STAGE];
  process.env.STAGE = 'dev';
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
}

export function memberApprovalStage(): void {
  stages[STAGE] = {
    dryRun: false,
    idleStop: { approval: 'required' },
    backupFailure: { retry: true, approval: 'required' },
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
    cloudTrail: { detections: { [DETECTION]: { remediate: true, approval: 'required' } } },
    organization: {
      id: 'o-exampleorg1',
      ous: ['ou-ab12-workload1'],
      regions: REGIONS,
      homeRegion: 'us-east-1',
      defaultMode: 'live',
    },
  };
}

/** A member's assumed credentials carry its account id in the access key. */
const keyOf = (account: string) => `ASIA${account}`;

/** The account and region of the client a call went out on: the central account's when nothing was assumed. */
export async function whereCalled(client: unknown): Promise<{ account: string; region: string }> {
  const config = (
    client as { config: { region(): Promise<string>; credentials(): Promise<{ accessKeyId: string }> } }
  ).config;
  const key = (await config.credentials()).accessKeyId;
  const account = key.startsWith('ASIA') ? key.slice(4) : CENTRAL;
  return { account, region: await config.region() };
}

/** A running, opted-in, EBS-backed instance of `account`. */
export const idleInstanceOf = (account: string): Instance => ({
  InstanceId: `i-0${account.slice(0, 16).padEnd(16, '0')}`,
  InstanceType: 't3.medium',
  State: { Name: 'running', Code: 16 },
  RootDeviceType: 'ebs',
  Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
});

export interface MemberStage {
  table: ApprovalTable;
  /** Each account's mode parameter; absent: the stage's default (live). */
  modes: Map<string, string>;
  /** The accounts the member-roles StackSet serves now. */
  served: Set<string>;
  /** The kill switch's value, when set. */
  killSwitch?: string;
  /** Each call of a mutating or re-checking command, with the account and region it went to. */
  calls: { command: string; account: string; region: string; input: unknown }[];
}

/** Call in beforeEach: everything answered, A and B served and live, the kill switch absent. */
export function answerMemberStage(aws: AwsMocks): MemberStage {
  aws.reset();
  process.env.STAGE = STAGE;
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:${CENTRAL}:pages`;
  delete process.env.DRY_RUN;
  resetConfigForTests();
  resetServedAccountsForTests();
  resetMemberCredentialsForTests();
  resetAccountNamesForTests();
  resetChangeFreezeForTests();
  const stage: MemberStage = {
    table: undefined as unknown as ApprovalTable,
    modes: new Map(),
    served: new Set([MEMBER_A, MEMBER_B]),
    calls: [],
  };
  const ssm = aws.of(SSMClient);
  withoutKillSwitch(ssm);
  ssm.on(GetParameterCommand).callsFake((input: { Name?: string }) => {
    const value =
      input.Name === KILL_SWITCH
        ? stage.killSwitch
        : [...stage.modes].find(([account]) => input.Name === modeParameter(account))?.[1];
    if (value === undefined) {
      throw new ParameterNotFound({ message: 'parameter not found', $metadata: { httpStatusCode: 400 } });
    }
    return { Parameter: { Name: input.Name, Value: value, Type: 'String' } };
  });
  resetKillSwitchForTests();
  aws.answerAsEmptyStateTable();
  stage.table = approvalTable(aws);
  aws.of(SNSClient).on(PublishCommand).resolves({ MessageId: 'm-1' });
  aws
    .of(CloudFormationClient)
    .on(ListStackInstancesCommand)
    .callsFake(() => ({
      Summaries: [...stage.served].map((Account) => ({ Account, Region: 'us-east-1', Status: 'CURRENT' })),
    }));
  aws
    .of(STSClient)
    .on(AssumeRoleCommand)
    .callsFake((input: { RoleArn?: string }) => {
      const account = input.RoleArn?.split(':')[4] ?? '';
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
  const ec2 = aws.of(EC2Client);
  const record =
    (command: string, answer: (input: unknown, account: string) => unknown) =>
    async (input: unknown, getClient: () => unknown) => {
      const where = await whereCalled(getClient());
      stage.calls.push({ command, ...where, input });
      return answer(input, where.account);
    };
  ec2.on(DescribeInstancesCommand).callsFake(
    record('DescribeInstances', (_input, account) => ({
      Reservations: [{ Instances: [idleInstanceOf(account)] }],
    })),
  );
  ec2.on(StopInstancesCommand).callsFake(record('StopInstances', () => ({})));
  ec2.on(CreateTagsCommand).callsFake(record('CreateTags', () => ({})));
  ec2
    .on(RevokeSecurityGroupIngressCommand)
    .callsFake(record('RevokeSecurityGroupIngress', () => ({ Return: true })));
  aws
    .of(CloudWatchClient)
    .on(GetMetricDataCommand)
    .callsFake(hourlyMetricAnswer((metric) => (metric === 'CPUUtilization' ? 0.5 : 1000)));
  return stage;
}

/** The calls of one command, with where they went. */
export const callsOf = (stage: MemberStage, command: string) =>
  stage.calls.filter((c) => c.command === command);

type Handler = (event: never, context: ReturnType<typeof makeContext>) => Promise<unknown>;

/** Runs `handler` as the central stack's `functionName` (its account, the home region). */
export async function asCentral(functionName: string, handler: Handler, event: unknown): Promise<unknown> {
  process.env.AWS_LAMBDA_FUNCTION_NAME = `ops-autopilot-${STAGE}-${functionName}`;
  resetConfigForTests();
  return handler(
    event as never,
    makeContext(`ops-autopilot-${STAGE}-${functionName}`, { account: CENTRAL, region: 'us-east-1' }),
  );
}

/** One message of the organization's idle scan queue: a worker run for `account` in `region`. */
export const scanDelivery = (account: string, region: string) => ({
  Records: [
    {
      messageId: crypto.randomUUID(),
      receiptHandle: 'handle',
      body: JSON.stringify({
        kind: 'idle-scan-target',
        run: 'e7a1b2c3-0000-4000-8000-000000000001',
        scheduledAt: '2026-12-06T19:00:00Z',
        account,
        region,
      }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:${CENTRAL}:ops-autopilot-${STAGE}-idle-scan-targets`,
      awsRegion: 'us-east-1',
    },
  ],
});
