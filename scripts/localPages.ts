/**
 * `npm run local:pages [-- --stage dev]`: prints, once each, the pages sent to the local stack of
 * `npm run local:up` (its topic's subscribed queue), then exits.
 */

import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { receivePages } from '../tools/local/localStack.ts';

const { values } = parseArgs({ options: { stage: { type: 'string', default: 'dev' } } });
// The defaults local:up prints, so a second shell needs no exports to read the pages.
process.env.AWS_ENDPOINT_URL ??= `http://127.0.0.1:${process.env.LOCAL_PORT ?? '5055'}`;
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';

async function main(): Promise<number> {
  const sqs = new SQSClient({});
  const queue = `ops-autopilot-${values.stage}-page-inbox`;
  let queueUrl: string | undefined;
  try {
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
  } catch (error) {
    console.error(
      `local:pages: no queue ${queue} at ${process.env.AWS_ENDPOINT_URL} (is npm run local:up running?): ${(error as Error).message}`,
    );
    return 1;
  }
  const pages = await receivePages(sqs, queueUrl as string, true);
  if (pages.length === 0) console.log('no new pages');
  for (const page of pages) {
    const attributes = Object.entries(page.attributes)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`=== ${page.subject}\n${attributes}\n\n${page.body}\n`);
  }
  return 0;
}

process.exitCode = await main();
