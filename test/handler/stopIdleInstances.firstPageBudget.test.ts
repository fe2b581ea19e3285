import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDK_LARGE_REQUEST_TIMEOUT_MS, sdkClientSettings } from '#shared/aws/client.ts';
import { type DescribeStats, describeRunning } from '#shared/idle/describe.ts';

// The scan asks EC2's largest page (1,000) first; an endpoint too slow for that (moto at 5,000 instances
// on a loaded machine) would hold it past the 15 s request timeout 6 times over with the client's
// retries. The first request has a budget instead: abandoned, it is aborted once and not retried, and
// the scan reads on in smaller pages. Here a real EC2 client, built as the functions build it, talks to a
// loopback EC2 that never answers a page of 1,000.
const instance = (k: number) => `<item>
  <instanceId>i-${k.toString(16).padStart(17, '0')}</instanceId><instanceType>t3.medium</instanceType>
  <instanceState><code>16</code><name>running</name></instanceState><rootDeviceType>ebs</rootDeviceType>
  <tagSet><item><key>ops:auto-stop</key><value>true</value></item></tagSet></item>`;
const answer = (from: number, count: number, next?: number) => `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <reservationSet><item><reservationId>r-1234567890abcdef0</reservationId><ownerId>123456789012</ownerId>
    <instancesSet>${Array.from({ length: count }, (_, j) => instance(from + j)).join('')}</instancesSet>
  </item></reservationSet>${next === undefined ? '' : `<nextToken>${next}</nextToken>`}
</DescribeInstancesResponse>`;

const FLEET = 450;
/** Every request's MaxResults, in the order they came; and whether a held request's connection closed. */
const asked: number[] = [];
let heldClosed: () => void = () => undefined;
const heldRequestClosed = new Promise<void>((resolve) => {
  heldClosed = resolve;
});
/** Resolves when the page of 1,000 has reached the server: the scan is then told it is over its budget. */
let heldArrived: () => void = () => undefined;
const heldRequestArrived = new Promise<void>((resolve) => {
  heldArrived = resolve;
});

const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  let body = '';
  request.on('data', (chunk: Buffer) => {
    body += chunk.toString();
  });
  request.on('end', () => {
    const params = new URLSearchParams(body);
    const size = Number(params.get('MaxResults'));
    const from = Number(params.get('NextToken') ?? 0);
    asked.push(size);
    if (size >= 1000) {
      // Never answered: only the client's abort ends it.
      response.on('close', () => heldClosed());
      heldArrived();
      return;
    }
    const count = Math.min(size, FLEET - from);
    const next = from + count < FLEET ? from + count : undefined;
    response.writeHead(200, { 'content-type': 'text/xml' }).end(answer(from, count, next));
  });
});
let client: EC2Client;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new EC2Client({
    ...sdkClientSettings(6, SDK_LARGE_REQUEST_TIMEOUT_MS),
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
});
afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the idle scan whose first DescribeInstances page of 1,000 is not answered within its budget', () => {
  it('aborts that request once, unretried, and reads the whole fleet in smaller pages', async () => {
    // Arrange
    const stats: DescribeStats = { describePages: 0, describePagesFailed: 0 };
    // Act
    const facts = await describeRunning(stats, { firstPageOverBudget: () => heldRequestArrived }, client);
    // Assert
    await heldRequestClosed;
    expect(facts).toHaveLength(FLEET);
    expect(new Set(facts.map((f) => f.instanceId)).size).toBe(FLEET);
    expect(asked[0]).toBe(1000);
    expect(asked.filter((size) => size >= 1000)).toHaveLength(1);
    expect(asked[1]).toBe(200);
    expect(stats).toMatchObject({ describePagesFailed: 0 });
    expect(stats.fleetPartlyRead).toBeUndefined();
  });
});
