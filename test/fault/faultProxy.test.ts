import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { isThrottlingError, isTransientError } from '@smithy/service-error-classification';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultKind, type FaultProxy, startFaultProxy } from '../../tools/local/faultProxy.ts';
import type { Moto } from '../../tools/local/moto.ts';
import { claimSharedMoto } from '../support/sharedMoto.ts';

/**
 * The fault proxy fails calls the way AWS does, as the SDK understands them: a throttle is classified
 * as a throttle in each protocol (so the SDK backs off as it would for AWS), a server error and a
 * timeout as transient, and a lost response leaves the call carried out.
 */
let moto: Moto;
const proxies: FaultProxy[] = [];
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const direct = () => new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });

async function through(kind: FaultKind): Promise<FaultProxy> {
  const proxy = await startFaultProxy({
    target: moto.endpoint,
    seed: 7,
    rate: 1,
    holdMs: 1_000,
    maxFaults: 1,
    kinds: [kind],
  });
  proxies.push(proxy);
  return proxy;
}

/** One attempt only, so the proxy's single fault is what the caller sees. */
const clientSettings = (proxy: FaultProxy) => ({
  endpoint: proxy.endpoint,
  region: 'us-east-1',
  credentials,
  maxAttempts: 1,
  requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
});

beforeAll(async () => {
  moto = await claimSharedMoto();
  await direct().send(
    new CreateTableCommand({
      TableName: 'faults',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
});

afterAll(async () => {
  for (const proxy of proxies) await proxy.stop();
  await moto?.stop();
});

describe('the fault proxy', () => {
  it('throttles DynamoDB (JSON), SNS (query) and EC2 in words the SDK classifies as throttling', async () => {
    // Arrange
    const topic = await new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials }).send(
      new CreateTopicCommand({ Name: 'faults' }),
    );
    const calls = [
      async () =>
        new DynamoDBClient(clientSettings(await through('throttle'))).send(
          new GetItemCommand({ TableName: 'faults', Key: { id: { S: 'a' } } }),
        ),
      async () =>
        new SNSClient(clientSettings(await through('throttle'))).send(
          new PublishCommand({ TopicArn: topic.TopicArn, Message: 'm' }),
        ),
      async () =>
        new EC2Client(clientSettings(await through('throttle'))).send(new DescribeInstancesCommand({})),
    ];
    // Act
    const errors = await Promise.all(
      calls.map((call) =>
        call().then(
          () => undefined,
          (e: Error) => e,
        ),
      ),
    );
    // Assert
    expect(errors.map((e) => e?.name)).toEqual(['ThrottlingException', 'Throttling', 'RequestLimitExceeded']);
    for (const error of errors) expect(isThrottlingError(error as Error & { $metadata: object })).toBe(true);
  });

  it('makes server errors and timeouts transient errors, which the SDK retries', async () => {
    // Arrange
    const get = async (kind: FaultKind) =>
      new DynamoDBClient(clientSettings(await through(kind)))
        .send(new GetItemCommand({ TableName: 'faults', Key: { id: { S: 'a' } } }))
        .then(
          () => undefined,
          (e: Error) => e,
        );
    // Act
    const [serverError, timeout] = [await get('server-error'), await get('timeout')];
    // Assert
    expect(isTransientError(serverError as Error & { $metadata: object })).toBe(true);
    expect(timeout?.name).toBe('TimeoutError');
    expect(isTransientError(timeout as Error & { $metadata: object })).toBe(true);
  });

  it('carries out a call whose response it loses, and says so', async () => {
    // Arrange
    const proxy = await through('lost-response');
    const put = new DynamoDBClient(clientSettings(proxy)).send(
      new PutItemCommand({ TableName: 'faults', Item: { id: { S: 'lost' } } }),
    );
    // Act
    const error = await put.then(
      () => undefined,
      (e: Error) => e,
    );
    const stored = await direct().send(
      new GetItemCommand({ TableName: 'faults', Key: { id: { S: 'lost' } } }),
    );
    // Assert
    expect(error).toBeInstanceOf(Error);
    expect(stored.Item?.id).toEqual({ S: 'lost' });
    expect(proxy.calls).toMatchObject([
      { operation: 'PutItem', fault: 'lost-response', upstreamStatus: 200 },
    ]);
  });

  it('draws the same faults from the same seed', async () => {
    // Arrange
    const draw = async () => {
      const proxy = await startFaultProxy({
        target: moto.endpoint,
        seed: 42,
        rate: 0.3,
        holdMs: 50,
        maxFaults: 100,
      });
      proxies.push(proxy);
      const client = new DynamoDBClient({
        ...clientSettings(proxy),
        requestHandler: { requestTimeout: 40, throwOnRequestTimeout: true },
      });
      for (let i = 0; i < 20; i++) {
        await client
          .send(new GetItemCommand({ TableName: 'faults', Key: { id: { S: 'a' } } }))
          .catch(() => undefined);
      }
      return proxy.calls.map((c) => c.fault);
    };
    // Act
    const [first, second] = [await draw(), await draw()];
    // Assert
    expect(first).toEqual(second);
    expect(first.filter((f) => f !== 'none').length).toBeGreaterThan(0);
  });
});
