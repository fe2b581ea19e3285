import {
  CloudFormationClient,
  ListStackInstancesCommand,
  type StackInstanceStatus,
} from '@aws-sdk/client-cloudformation';
import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import type { AwsMocks } from '../../tools/awsMocks.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { type CloudTrailRecord, cloudTrailRecord } from './events/index.ts';

/**
 * The handler tests of the example organization stage `org`, made live: onCloudTrail as the central
 * stack runs it, a member's world-open ingress record, and the answers every such test starts from
 * (the member role assumed, the member-roles StackSet's instances, a revoke that succeeds).
 */

/** The central account the tests run onCloudTrail in (the home region is us-east-1). */
export const CENTRAL = '111111111111';

/** The world-open ingress record, as `account` would send it from `region`. */
export function openedIn(account: string, region: string, id?: string): CloudTrailRecord {
  const record = cloudTrailRecord('security-group-open-world', {
    region,
    awsRegion: region,
    ...(id ? { id } : {}),
  });
  return JSON.parse(JSON.stringify(record).replaceAll('123456789012', account)) as CloudTrailRecord;
}

type Handler = (event: never, context: ReturnType<typeof makeContext>) => Promise<unknown>;

/** onCloudTrail's handler as the central stack runs it: in the central account and the home region. */
export const centralInvoker =
  (handler: Handler) =>
  async (record: CloudTrailRecord): Promise<PipelineResult> =>
    (await handler(
      record as never,
      makeContext('ops-autopilot-org-onCloudTrail', { account: CENTRAL, region: 'us-east-1' }),
    )) as PipelineResult;

/**
 * A live stage `org` whose StackSet holds `instances`, whose member role hands out `memberKeys`, with
 * pages and revokes answered and the kill switch absent.
 */
export function liveOrganizationStage(
  aws: AwsMocks,
  instances: { Account: string; Status: StackInstanceStatus }[],
  memberKeys = { AccessKeyId: 'ASIAMEMBERA', SecretAccessKey: 'secret-a', SessionToken: 'token-a' },
): void {
  aws.reset();
  withoutKillSwitch(aws.of(SSMClient));
  aws.answerAsEmptyStateTable();
  aws.of(SNSClient).on(PublishCommand).resolves({ MessageId: 'm-1' });
  aws
    .of(STSClient)
    .on(AssumeRoleCommand)
    .resolves({ Credentials: { ...memberKeys, Expiration: new Date(Date.now() + 3600_000) } });
  aws
    .of(CloudFormationClient)
    .on(ListStackInstancesCommand)
    .resolves({ Summaries: instances.map((i) => ({ ...i, Region: 'us-east-1' })) });
  aws.of(EC2Client).on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  process.env.STAGE = 'org';
  process.env.DRY_RUN = 'false';
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:${CENTRAL}:pages`;
  resetConfigForTests();
  resetMemberCredentialsForTests();
}
