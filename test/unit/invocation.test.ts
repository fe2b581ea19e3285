import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundToInvocation } from '#shared/aws/client.ts';
import { runInInvocation } from '#shared/runtime/invocation.ts';

// A loopback endpoint that accepts requests and never answers: only the abort signal can end a call.
let server: Server;
let endpoint: string;
let received = 0;

beforeAll(async () => {
  server = createServer(() => {
    received++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = () =>
  boundToInvocation(
    new SNSClient({
      endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  );
const publish = new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'm' });

describe('SDK calls inside an invocation', () => {
  it('are aborted in flight when the invocation is aborted', async () => {
    // Arrange
    const controller = new AbortController();
    const before = received;
    // Act
    const call = runInInvocation({ signal: controller.signal, remainingMs: () => 60_000 }, () =>
      client().send(publish),
    ).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    const error = (await call) as Error;
    // Assert
    expect(received).toBe(before + 1);
    expect(error.name).toBe('AbortError');
  });

  it('fail at once, without reaching AWS, when started after the invocation was aborted', async () => {
    // Arrange
    const controller = new AbortController();
    controller.abort();
    const before = received;
    // Act
    const error = (await runInInvocation({ signal: controller.signal, remainingMs: () => 0 }, () =>
      client().send(publish),
    ).catch((e: unknown) => e)) as Error;
    // Assert
    expect(error.name).toBe('AbortError');
    expect(received).toBe(before);
  });
});
