// One fresh process: import a bundle, invoke its handler once, report the timings as JSON.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, fixture] = process.argv.slice(2);
const event = JSON.parse(readFileSync(fixture, 'utf8'));
// A fresh id per process, so a deduplicated event is really handled; manual payloads have none.
if ('id' in event) event.id = crypto.randomUUID();
const context = {
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '256',
  awsRequestId: crypto.randomUUID(),
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 60_000,
  callbackWaitsForEmptyEventLoop: false,
};
const t0 = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const t1 = performance.now();
let ok = true;
try {
  await mod.handler(event, context);
} catch (error) {
  ok = false;
  process.stderr.write(`${error.name}: ${error.message}\n`);
}
const t2 = performance.now();
process.stdout.write(
  JSON.stringify({ importMs: t1 - t0, invokeMs: t2 - t1, rssMb: process.memoryUsage().rss / 2 ** 20, ok }),
);
