import type { Context } from 'aws-lambda';

/** The parts of a Lambda context the middy stack and Powertools read. */
export function makeContext(
  functionName = 'ops-autopilot-test',
  site: { account: string; region: string } = { account: '123456789012', region: 'us-east-1' },
): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${site.region}:${site.account}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
