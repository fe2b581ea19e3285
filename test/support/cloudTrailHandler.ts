import { CloudTrailClient, DescribeTrailsCommand, type Trail } from '@aws-sdk/client-cloudtrail';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { type AwsMocks, mockAwsClients } from '../../tools/awsMocks.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import type { CloudTrailRecord } from './events/index.ts';

/** A page as a reader sees it. */
export interface SentPage {
  subject: string;
  body: string;
}

export interface CloudTrailHandlerHarness {
  aws: AwsMocks;
  sns: ReturnType<AwsMocks['of']>;
  cloudtrail: ReturnType<AwsMocks['of']>;
  /** The handler on `record`, deployed in the record's account and in `region` (by default the record's). */
  invoke<F = unknown>(record: CloudTrailRecord, region?: string): Promise<PipelineResult<F>>;
  /** The pages published since the test began. */
  pages(): SentPage[];
  /** The Publish calls' inputs since the test began, as SNS received them. */
  published(): PublishCommandInput[];
  /** Puts the stage in dry-run (the default) or live mode. */
  setDryRun(dryRun: boolean): void;
}

/**
 * onCloudTrail through its handler with every AWS client mocked, as the handler tests share it: a dev
 * stage in dry-run, no kill switch, a state table that has seen nothing (every record new, nothing
 * rate-limited), SNS accepting every page, and the trail read forgotten before each test. Given `trails`,
 * DescribeTrails answers them (gather's read for a lifecycle rule on a log bucket).
 * Call once at a test file's top level.
 */
export async function cloudTrailHandlerHarness(
  options: { trails?: Trail[] } = {},
): Promise<CloudTrailHandlerHarness> {
  const aws = await mockAwsClients();
  const sns = aws.of(SNSClient);
  const ssm = aws.of(SSMClient);
  const cloudtrail = aws.of(CloudTrailClient);
  type Handler = typeof import('#functions/onCloudTrail/handler.ts').handler;
  // Loaded on the first invoke, so a file that only plans pays nothing for the handler's imports.
  let handler: Promise<Handler> | undefined;
  let resetTrailLogBuckets: (() => void) | undefined;
  const loadHandler = (): Promise<Handler> => {
    handler ??= Promise.all([
      import('#functions/onCloudTrail/handler.ts'),
      import('#functions/onCloudTrail/trailLogBuckets.ts'),
    ]).then(([module, trailLogBuckets]) => {
      resetTrailLogBuckets = trailLogBuckets.resetTrailLogBucketsForTests;
      return module.handler;
    });
    return handler;
  };

  const setDryRun = (dryRun: boolean) => {
    process.env.DRY_RUN = String(dryRun);
    resetConfigForTests();
  };

  beforeAll(() => {
    process.env.STATE_TABLE_NAME = 'state';
    process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  });

  beforeEach(() => {
    aws.reset();
    resetTrailLogBuckets?.();
    withoutKillSwitch(ssm);
    aws.answerAsEmptyStateTable();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    if (options.trails) cloudtrail.on(DescribeTrailsCommand).resolves({ trailList: options.trails });
    setDryRun(true);
  });

  const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  return {
    aws,
    sns,
    cloudtrail,
    invoke: async <F>(record: CloudTrailRecord, region = record.region) =>
      (await (
        await loadHandler()
      )(
        record as never,
        makeContext('ops-autopilot-dev-onCloudTrail', { account: record.account, region }),
      )) as PipelineResult<F>,
    pages: () => published().map((p) => ({ subject: p.Subject ?? '', body: p.Message ?? '' })),
    published,
    setDryRun,
  };
}
