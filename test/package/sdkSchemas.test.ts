import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

// plugins/esbuildPlugins.cjs writes the SDK schemas' computed keys ({ [_eQN]: ... }) as literals so
// esbuild can drop unused shapes. Those keys are the wire names (EC2's ec2QueryName: Filter.1.Name,
// tagSet): a wrong one would send a request EC2 refuses or read an answer as empty. Here a bundle built
// with the shipped plugins sends DescribeInstances to a loopback server answering as EC2 does.
const ROOT = join(import.meta.dirname, '..', '..');
const SHIPPED_PLUGINS = createRequire(import.meta.url)(
  join(ROOT, 'plugins', 'esbuildPlugins.cjs'),
) as Plugin[];
const out = mkdtempSync(join(tmpdir(), 'ops-sdk-schemas-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const ANSWER = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <reservationSet><item><reservationId>r-1234567890abcdef0</reservationId><ownerId>123456789012</ownerId>
    <instancesSet><item>
      <instanceId>i-1234567890abcdef0</instanceId><instanceType>t3.medium</instanceType>
      <instanceState><code>16</code><name>running</name></instanceState>
      <rootDeviceType>ebs</rootDeviceType><instanceLifecycle>spot</instanceLifecycle>
      <tagSet><item><key>ops:auto-stop</key><value>true</value></item></tagSet>
    </item></instancesSet>
  </item></reservationSet>
  <nextToken>page-2</nextToken>
</DescribeInstancesResponse>`;

describe('the EC2 client as serverless.yml bundles it', () => {
  it('sends DescribeInstances with EC2 wire names and reads instances, state, lifecycle, tags and the next token', async () => {
    // Arrange: a bundle of the client and one command, and a loopback EC2 that keeps the request body.
    const bundled = join(out, 'ec2.mjs');
    await build({
      stdin: {
        contents: "export { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';",
        resolveDir: ROOT,
        loader: 'js',
      },
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'],
      plugins: SHIPPED_PLUGINS,
      outfile: bundled,
      logLevel: 'error',
    });
    let body = '';
    const server = createServer((request, response) => {
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => response.writeHead(200, { 'content-type': 'text/xml' }).end(ANSWER));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const { EC2Client, DescribeInstancesCommand } = (await import(
      pathToFileURL(bundled).href
    )) as typeof import('@aws-sdk/client-ec2');
    const client = new EC2Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    try {
      // Act
      const page = await client.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
          MaxResults: 200,
        }),
      );
      // Assert
      const sent = new URLSearchParams(body);
      expect(Object.fromEntries(sent)).toMatchObject({
        Action: 'DescribeInstances',
        'Filter.1.Name': 'instance-state-name',
        'Filter.1.Value.1': 'running',
        MaxResults: '200',
      });
      expect(page.NextToken).toBe('page-2');
      expect(page.Reservations?.[0]?.Instances?.[0]).toMatchObject({
        InstanceId: 'i-1234567890abcdef0',
        InstanceType: 't3.medium',
        State: { Code: 16, Name: 'running' },
        RootDeviceType: 'ebs',
        InstanceLifecycle: 'spot',
        Tags: [{ Key: 'ops:auto-stop', Value: 'true' }],
      });
    } finally {
      client.destroy();
      server.close();
    }
  }, 60_000);
});
