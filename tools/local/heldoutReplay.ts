/**
 * Replays held-out records as production would see them: through the packaged onCloudTrail rules (put
 * into moto's EventBridge), then, when a rule delivers one, through the onCloudTrail handler, dry-run,
 * with every AWS client it uses mocked (it reads nothing; state writes and pages are answered, never sent).
 */
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../awsMocks.ts';
import type { ReplayOutcome } from './heldout.ts';
import { withoutKillSwitch } from './killSwitch.ts';
import { makeContext } from './lambda.ts';
import { type Moto, startMoto, useMotoEnvironment } from './moto.ts';
import { eventRules, type Template } from './packaged.ts';
import { installRouter } from './routing.ts';

export interface HeldoutReplay {
  replay(event: Record<string, unknown>): Promise<ReplayOutcome>;
  /** The AWS calls the handler made that change an account (none may in dry-run): `EC2Client.RevokeSecurityGroupIngressCommand`. */
  mutatingCalls(): string[];
  stop(): Promise<void>;
}

type Handler = (event: never, context: Context) => Promise<unknown>;

/** What a dry-run still does, none of it a change to the account: its own state table, and pages (marked dry-run). */
const NOT_CHANGES = (client: string, command: string) =>
  client === 'DynamoDBClient' ||
  client === 'DynamoDBDocumentClient' ||
  (client === 'SNSClient' && command === 'PublishCommand') ||
  /^(Get|Describe|List|Query|Scan)/.test(command);

export async function startHeldoutReplay(template: Template): Promise<HeldoutReplay> {
  const moto: Moto = await startMoto();
  useMotoEnvironment(moto.endpoint);
  const router = await installRouter(eventRules(template).filter((r) => r.functionName === 'onCloudTrail'));

  const aws = await mockAwsClients();
  // The router reads its delivery queues from moto through SQS, which onCloudTrail never calls: the
  // mock of every client the functions use (the idle scan's queue client too) must not answer for it.
  aws.of(SQSClient).restore();
  const sns = aws.of(SNSClient);
  const ssm = aws.of(SSMClient);
  const dynamodb = aws.of(DynamoDBClient);
  const documents = aws.of(DynamoDBDocumentClient);
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'true';
  resetConfigForTests();
  withoutKillSwitch(ssm);
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({ Attributes: { repeats: { N: '0' } } });
  dynamodb.on(GetItemCommand).resolves({});
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
  dynamodb.on(TransactWriteItemsCommand).resolves({});
  documents.on(UpdateCommand).resolves({ Attributes: { repeats: 0 } });
  documents.on(GetCommand).resolves({});
  documents.on(PutCommand).resolves({});
  documents.on(BatchWriteCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const { handler } = (await import('#functions/onCloudTrail/handler.ts')) as { handler: Handler };

  return {
    async replay(event) {
      const reached = await router.route(event);
      if (!reached.includes('onCloudTrail')) return { routed: false };
      const context = makeContext('ops-autopilot-dev-onCloudTrail', {
        account: String(event.account),
        region: String(event.region),
      });
      try {
        const result = (await handler(event as never, context)) as PipelineResult<{
          detection?: string;
          action: 'page' | 'record' | 'none';
        }>;
        const findings = result.findings ?? { action: 'none' as const };
        return { routed: true, action: findings.action, detection: findings.detection };
      } catch (error) {
        return {
          routed: true,
          action: 'failed',
          error: error instanceof Error ? error.message : String(error),
        };
      }
    },
    mutatingCalls() {
      return aws
        .calls()
        .filter((c) => !NOT_CHANGES(c.client, c.command))
        .map((c) => `${c.client}.${c.command}`);
    },
    async stop() {
      aws.restore();
      await moto.stop();
    },
  };
}
