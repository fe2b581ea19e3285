import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { documents, dynamodb } from '#shared/aws/dynamodb.ts';
import { awsClientModules } from '../../tools/awsClients.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';

// The mock kit's promise: a client added to shared/aws (or a function's own client) is mocked in every
// test that uses the kit, without anyone adding it to a list. Found here independently of the kit: from
// the source text (what constructs a client) and from each module's exports (what holds a send).

const ROOT = join(import.meta.dirname, '../..');
const sources = (folder: string) =>
  readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
/** `new EC2Client(`, `DynamoDBDocumentClient.from(`: a module that builds an SDK client. */
const BUILDS_A_CLIENT = /new \w+Client\(|\w+Client\.from\(/;

const aws = await mockAwsClients();

describe('the AWS mock kit', () => {
  it('finds every module of shared/ and functions/ that builds an SDK client', () => {
    // Arrange
    const building = [...sources('shared'), ...sources('functions')].filter((file) =>
      BUILDS_A_CLIENT.test(readFileSync(join(ROOT, file), 'utf8')),
    );
    // Act
    const found = awsClientModules();
    // Assert
    expect(building.length).toBeGreaterThanOrEqual(9);
    for (const file of building) expect(found, `${file} builds a client`).toContain(file);
  });

  it('answers, in the process, every call of every client shared/aws exports', async () => {
    // Arrange: each module of shared/aws imported on its own, every export that can send.
    const exported: { key: string; send: (command: unknown) => Promise<unknown> }[] = [];
    // A re-export of another module's client (ec2Actions.ts's ec2) is that client: counted once.
    const seen = new Set<unknown>();
    for (const file of sources('shared/aws')) {
      const module = (await import(pathToFileURL(join(ROOT, file)).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        const send = (value as { send?: unknown } | null)?.send;
        if (typeof send !== 'function' || seen.has(value)) continue;
        seen.add(value);
        exported.push({ key: `${file}#${name}`, send: send.bind(value) });
      }
    }
    expect(exported.map((e) => e.key)).toEqual(
      expect.arrayContaining(['shared/aws/backup.ts#backup', 'shared/aws/dynamodb.ts#documents']),
    );
    for (const { key, send } of exported) {
      aws.reset();
      // Act: a command of no service; a real client would fail on it at the discard endpoint.
      const answer = await send({ input: {}, middlewareStack: { clone: () => undefined } });
      // Assert: the kit's stub for that export got the call, and nothing went out.
      expect(answer, key).toBeUndefined();
      expect(aws.byExport.get(key)?.calls(), key).toHaveLength(1);
    }
  });

  it("mocks a function's own client (onCostAnomaly's Budgets client) too", () => {
    // Assert
    expect([...aws.byExport.keys()]).toContain('functions/onCostAnomaly/budgets.ts#budgets');
  });

  it("reads the action log written alone (a batch) and with a delivery's completion (a transaction)", async () => {
    // Arrange
    aws.reset();
    aws.answerAsEmptyStateTable();
    const alone = { id: 'f#action#1', type: 'action', decision: 'done', intentKind: 'sns.page' };
    const withCompletion = { id: 'f#action#2', type: 'action', decision: 'skipped', intentKind: 'ssm.start' };
    // Act
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          state: [{ PutRequest: { Item: alone } }, { PutRequest: { Item: { id: 'f#other' } } }],
        },
      }),
    );
    await dynamodb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: { TableName: 'state', Key: { id: { S: 'f#delivery' } }, UpdateExpression: 'SET s = :s' },
          },
          { Put: { TableName: 'state', Item: marshall(withCompletion) } },
        ],
      }),
    );
    // Assert: the entries, not the other writes of either call.
    expect(aws.actionLog()).toEqual([alone, withCompletion]);
  });
});
