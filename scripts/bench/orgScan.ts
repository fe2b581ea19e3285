import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DEFAULT_AMI, inParallel } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { sendStateTableCallsOnePerItem } from './stormCounters.ts';

/**
 * An organization's idle scan over simulated accounts, against moto: the scheduled run queues one
 * message per (account, region) on a real (moto) SQS queue; a poller standing in for the event source
 * mapping (batch size 1, at most MAX_CONCURRENCY runs at once, as stopIdleInstances' orgFanOut says)
 * hands each message to the handler, deletes it when the run succeeded and leaves it otherwise. Each
 * account is its own moto account (the `x-moto-account-id` header on its clients: moto's multi-account
 * support, and the member role's credentials moto hands out), seeded with two idle opted-in instances.
 * The scan covers the central account too, in every listed region. One account is broken (its member
 * role cannot be assumed): the bench shows the other accounts finish anyway.
 * Dry-run, as the example stage org runs: nothing is stopped, each account with idle instances pages.
 */

export interface OrgScanFigures {
  accounts: number;
  regions: number;
  messages: number;
  /** From the scheduled run's start until every message was consumed (or left for its retry). */
  wallMs: number;
  /** The scheduled run alone: reading the targets and queueing them. */
  fanOutMs: number;
  sendCalls: number;
  /** SDK calls a target's run made in its account, min / median / max over the accounts. */
  callsPerAccount: { min: number; median: number; max: number };
  slowest: { account: string; ms: number };
  medianRunMs: number;
  succeeded: number;
  failed: { account: string; error: string }[];
  pages: number;
  /** The last healthy account's run ended before the broken account's message was handed back. */
  brokenStalledNothing: boolean;
}

const MAX_CONCURRENCY = 2;
const INSTANCES_PER_ACCOUNT = 2;
const LOOKBACK_HOURS = 24;
const HOUR_MS = 3_600_000;
const CENTRAL = '123456789012';

const accountId = (k: number) => `2000000${String(k).padStart(5, '0')}`;

/** A client that acts in `account` of moto, counting its calls. */
function inAccount<C extends EC2Client | CloudWatchClient>(
  client: C,
  account: string,
  calls: Map<string, number>,
): C {
  type Next = (args: unknown) => Promise<unknown>;
  const stack = client.middlewareStack as unknown as { add(middleware: unknown, options: unknown): void };
  stack.add(
    (next: Next) => (args: unknown) => {
      const request = (args as { request?: { headers?: Record<string, string> } }).request;
      if (request?.headers) request.headers['x-moto-account-id'] = account;
      return next(args);
    },
    { step: 'build', name: 'motoAccount' },
  );
  stack.add(
    (next: Next) => (args: unknown) => {
      calls.set(account, (calls.get(account) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCountAccountCalls' },
  );
  return client;
}

/** Two idle opted-in instances in an account, with 24 hourly quiet datapoints of each metric. */
async function seedAccount(account: string, now: Date): Promise<void> {
  const none = new Map<string, number>();
  const ec2 = inAccount(new EC2Client({}), account, none);
  const cloudwatch = inAccount(new CloudWatchClient({}), account, none);
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: DEFAULT_AMI,
      InstanceType: 't3.medium',
      MinCount: INSTANCES_PER_ACCOUNT,
      MaxCount: INSTANCES_PER_ACCOUNT,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'ops:auto-stop', Value: 'true' }] }],
    }),
  );
  const lastHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const data: MetricDatum[] = (run.Instances ?? []).flatMap((i) =>
    (['CPUUtilization', 'NetworkIn', 'NetworkOut'] as const).flatMap((metric) =>
      Array.from({ length: LOOKBACK_HOURS }, (_, h) => ({
        MetricName: metric,
        Dimensions: [{ Name: 'InstanceId', Value: i.InstanceId as string }],
        Timestamp: new Date(lastHour - (h + 1) * HOUR_MS + HOUR_MS / 2),
        Value: metric === 'CPUUtilization' ? 1 : 20_000,
        Unit: metric === 'CPUUtilization' ? ('Percent' as const) : ('Bytes' as const),
      })),
    ),
  );
  for (let from = 0; from < data.length; from += 50) {
    await cloudwatch.send(
      new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: data.slice(from, from + 50) }),
    );
  }
  ec2.destroy();
  cloudwatch.destroy();
}

type Next = (args: unknown) => Promise<{ output: unknown }>;
type Stack = { add(middleware: unknown, options: unknown): void };

/**
 * The organization around the central stack, on moto: the member-roles StackSet's instances are the
 * members (moto has no delegated StackSets administrator, so ListStackInstances is answered here); each
 * member's role is assumed in moto, whose assumed credentials act in the role's account; the broken
 * account's AssumeRole is refused, as for an account whose member role is missing. Every EC2 and
 * CloudWatch call made with a member's credentials is counted for that account.
 */
async function answerAsOrganization(
  members: string[],
  broken: string,
  calls: Map<string, number>,
): Promise<void> {
  const { cloudformation } = await import('#shared/aws/cloudformation.ts');
  (cloudformation.middlewareStack as unknown as Stack).add(
    () => async () => ({
      output: {
        Summaries: members.map((Account) => ({ Account, Region: 'us-east-1', Status: 'CURRENT' })),
        $metadata: {},
      },
    }),
    { step: 'initialize', name: 'benchStackInstances' },
  );
  const accountOfKey = new Map<string, string>();
  const { sts } = await import('#shared/aws/sts.ts');
  (sts.middlewareStack as unknown as Stack).add(
    (next: Next) => async (args: unknown) => {
      const account = ((args as { input: { RoleArn?: string } }).input.RoleArn ?? '').split(':')[4] ?? '';
      if (account === broken) {
        throw Object.assign(new Error(`not authorized to perform sts:AssumeRole in ${broken}`), {
          name: 'AccessDenied',
        });
      }
      const answer = await next(args);
      const key = (answer.output as { Credentials?: { AccessKeyId?: string } }).Credentials?.AccessKeyId;
      if (key) accountOfKey.set(key, account);
      return answer;
    },
    { step: 'initialize', name: 'benchAssumeRole' },
  );
  // The acting clients send through their class's prototype (shared/aws/client.ts): counted there.
  for (const Client of [EC2Client, CloudWatchClient]) {
    const prototype = Client.prototype as unknown as {
      send(
        this: { config: { credentials(): Promise<{ accessKeyId: string }> } },
        ...rest: unknown[]
      ): unknown;
    };
    const send = prototype.send;
    prototype.send = async function (this, ...rest) {
      const account = accountOfKey.get((await this.config.credentials()).accessKeyId);
      if (account) calls.set(account, (calls.get(account) ?? 0) + 1);
      return send.apply(this, rest);
    };
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

export async function benchOrgScan(accounts = 50): Promise<OrgScanFigures> {
  const moto: Moto = await startMoto();
  useMotoEnvironment(moto.endpoint);
  try {
    const stack = await createLocalStack('ops-autopilot-org-bench');
    const sqs = new SQSClient({});
    const queue = await sqs.send(
      new CreateQueueCommand({ QueueName: 'ops-autopilot-org-idle-scan-targets' }),
    );
    const queueUrl = queue.QueueUrl as string;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn as string;
    Object.assign(process.env, {
      STAGE: 'org',
      STATE_TABLE_NAME: stack.tableName,
      PAGE_TOPIC_ARN: stack.topicArn,
      ORG_SCAN_QUEUE_URL: queueUrl,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    delete process.env.DRY_RUN;

    const members = Array.from({ length: accounts }, (_, k) => accountId(k));
    const broken = members[Math.floor(accounts / 2)] as string;
    const now = new Date();
    await inParallel(
      members.filter((a) => a !== broken),
      4,
      (a) => seedAccount(a, now),
    );

    const calls = new Map<string, number>();
    await answerAsOrganization(members, broken, calls);
    const { handler } = await import('#functions/stopIdleInstances/handler.ts');
    // moto's transactions copy the whole table and fail (HTTP 500) when another request writes meanwhile,
    // and its conditional writes are not atomic: held only there, as the storm bench does (DynamoDB is).
    await sendStateTableCallsOnePerItem('item');
    const { sqs: functionSqs } = await import('#shared/aws/sqs.ts');
    let sendCalls = 0;
    functionSqs.middlewareStack.add(
      (next) => (args) => {
        sendCalls++;
        return next(args);
      },
      { step: 'initialize', name: 'benchCountSends' },
    );

    const started = performance.now();
    await handler(
      {
        version: '0',
        id: crypto.randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: CENTRAL,
        time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        region: 'us-east-1',
        resources: [`arn:aws:events:us-east-1:${CENTRAL}:rule/ops-autopilot-org-idle-scan`],
        detail: {},
      } as never,
      makeContext('ops-autopilot-org-stopIdleInstances'),
    );
    const fanOutMs = performance.now() - started;

    // The event source mapping, as configured: one message per invocation, MAX_CONCURRENCY at once.
    const runs: { account: string; ms: number; endedAt: number; error?: string }[] = [];
    let brokenHandedBackAt = Number.POSITIVE_INFINITY;
    let messages = 0;
    const regions = new Set<string>();
    const poller = async () => {
      for (;;) {
        const received = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 600 }),
        );
        const message = received.Messages?.[0];
        if (!message) return;
        messages++;
        const { account, region } = JSON.parse(message.Body ?? '{}') as { account: string; region: string };
        regions.add(region);
        const t0 = performance.now();
        try {
          await handler(
            {
              Records: [
                {
                  messageId: message.MessageId,
                  receiptHandle: message.ReceiptHandle,
                  body: message.Body,
                  attributes: {},
                  messageAttributes: {},
                  md5OfBody: message.MD5OfBody,
                  eventSource: 'aws:sqs',
                  eventSourceARN: queueArn,
                  awsRegion: 'us-east-1',
                },
              ],
            } as never,
            makeContext('ops-autopilot-org-stopIdleInstances'),
          );
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          runs.push({ account, ms: performance.now() - t0, endedAt: performance.now() });
        } catch (error) {
          // Left on the queue: SQS hands it back after its visibility timeout, then the dead-letter queue.
          if (account === broken) brokenHandedBackAt = performance.now();
          runs.push({
            account,
            ms: performance.now() - t0,
            endedAt: performance.now(),
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    };
    await Promise.all(Array.from({ length: MAX_CONCURRENCY }, poller));
    const wallMs = performance.now() - started;

    const healthy = runs.filter((r) => r.error === undefined);
    const perAccount = members.filter((a) => a !== broken).map((a) => calls.get(a) ?? 0);
    const slowest = runs.reduce(
      (a, b) => (b.ms > a.ms ? b : a),
      runs[0] ?? { account: '-', ms: 0, endedAt: 0 },
    );
    const pages = (await stack.readPages(true)).length;
    return {
      accounts,
      regions: regions.size,
      messages,
      wallMs,
      fanOutMs,
      sendCalls,
      callsPerAccount: {
        min: Math.min(...perAccount),
        median: median(perAccount),
        max: Math.max(...perAccount),
      },
      slowest: { account: slowest.account, ms: slowest.ms },
      medianRunMs: median(runs.map((r) => r.ms)),
      succeeded: healthy.length,
      failed: runs
        .filter((r) => r.error !== undefined)
        .map((r) => ({ account: r.account, error: r.error ?? '' })),
      pages,
      // Messages after the broken one were still taken and finished: it held no poller up.
      brokenStalledNothing:
        // Every member but the broken one, and the central account.
        new Set(healthy.map((r) => r.account)).size === accounts &&
        healthy.some((r) => r.endedAt > brokenHandedBackAt),
    };
  } finally {
    await moto.stop();
  }
}

export function printOrgScanTable(f: OrgScanFigures): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`| figure | value |`);
  console.log(`|---|---|`);
  console.log(
    `| accounts x regions | ${f.accounts} x ${f.regions} (one broken: its member role cannot be assumed) |`,
  );
  console.log(`| messages queued and consumed | ${f.messages} (SendMessageBatch calls: ${f.sendCalls}) |`);
  console.log(
    `| wall time, schedule to last message | ${s(f.wallMs)} (fan-out alone ${s(f.fanOutMs)}; ${MAX_CONCURRENCY} runs at once) |`,
  );
  console.log(
    `| SDK calls per account (its own clients) | min ${f.callsPerAccount.min}, median ${f.callsPerAccount.median}, max ${f.callsPerAccount.max} |`,
  );
  console.log(
    `| run time per target | median ${s(f.medianRunMs)}; slowest ${s(f.slowest.ms)} (account ${f.slowest.account}) |`,
  );
  console.log(`| runs succeeded / failed | ${f.succeeded} / ${f.failed.length} |`);
  for (const { account, error } of f.failed) console.log(`| failed: ${account} | ${error} |`);
  console.log(`| summary pages (dry-run: would stop) | ${f.pages} |`);
  console.log(
    `| the broken account stalled the others | ${f.brokenStalledNothing ? 'no: every other account finished, some after it failed' : 'YES'} |`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const accounts = Number(process.env.ORG_SCAN_ACCOUNTS ?? 50) || 50;
  const figures = await benchOrgScan(accounts);
  printOrgScanTable(figures);
  process.exitCode = figures.brokenStalledNothing && figures.pages === accounts - 1 ? 0 : 1;
}
