import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackupClient, DescribeBackupJobCommand } from '@aws-sdk/client-backup';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundToInvocation } from '#shared/aws/client.ts';
import { runInInvocation } from '#shared/runtime/invocation.ts';
import { type Latch, latch } from '../support/latch.ts';

// A loopback endpoint that accepts requests and never answers: only the abort signal can end a call.
let server: Server;
let endpoint: string;
let received = 0;
// Opened by the server when a request arrives, so a test can abort a call known to be in flight.
let requestArrived: Latch = latch();

beforeAll(async () => {
  server = createServer(() => {
    received++;
    requestArrived.open();
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
    requestArrived = latch();
    // Act
    const call = runInInvocation({ signal: controller.signal, remainingMs: () => 60_000 }, () =>
      client().send(publish),
    ).catch((e: unknown) => e);
    await requestArrived.opened;
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

describe('an endpoint that answers an HTML page instead of AWS (an emulator without the call)', () => {
  let htmlServer: Server;
  let htmlEndpoint: string;

  beforeAll(async () => {
    // What moto_server answers for an API it does not implement: Flask's 404 page.
    htmlServer = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n');
    });
    await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', resolve));
    htmlEndpoint = `http://127.0.0.1:${(htmlServer.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => htmlServer.close(resolve));
  });

  it('fails the call with one line naming the endpoint, the call and what it answered, not a deserialization error', async () => {
    // Arrange
    const backup = boundToInvocation(
      new BackupClient({
        endpoint: htmlEndpoint,
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
    );
    // Act
    const error = await backup
      .send(new DescribeBackupJobCommand({ BackupJobId: 'job-1' }))
      .then(() => undefined)
      .catch((e: unknown) => e as Error);
    // Assert
    expect(error?.name).toBe('EndpointNotAws');
    expect(error?.message).toBe(
      `${htmlEndpoint} answered DescribeBackupJob with an HTML page (HTTP 404), not an AWS response: an emulator that does not implement this call, or AWS_ENDPOINT_URL points at something other than AWS`,
    );
    expect(error?.message).not.toContain('\n');
    expect(error?.cause).toBeUndefined();
  });
});
