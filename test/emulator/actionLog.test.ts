import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryDecisions } from '#shared/state/actionLogQuery.ts';
import { decisionsTable } from '../../scripts/decisions/table.ts';
import { makeAlarmEvent } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { ROOT } from '../../tools/local/packaged.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';

// Finding a decision: the action log by incident and by time, through the indexes the stack creates
// (shared/state/tableDefinition.ts), after real function runs.
const STACK = 'ops-autopilot-actionlog';
const run = promisify(execFile);
let handler: typeof import('#functions/onAlarm/handler.ts').handler;
let documents: DynamoDBDocumentClient;

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});

const invoke = (event: unknown) => handler(event as never, makeContext());
const alarm = (alarmName: string, state: 'ALARM' | 'OK' = 'ALARM') =>
  makeAlarmEvent({
    alarmName,
    namespace: 'Custom/App',
    metricName: 'Errors',
    dimensions: { Service: alarmName },
    state,
  });
const arnOf = (alarmName: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`;

/** Two incidents: checkout fires and recovers, search fires. */
async function twoIncidents(): Promise<void> {
  await invoke(alarm('checkout-errors'));
  await invoke(alarm('checkout-errors', 'OK'));
  await invoke(alarm('search-errors'));
}

describe('the action log, queried', () => {
  it('finds every decision about one incident, newest first, and none about another', async () => {
    // Arrange
    await twoIncidents();
    const now = Date.now();
    // Act
    const found = await queryDecisions(documents, {
      table: stack.tableName,
      incident: arnOf('checkout-errors'),
      sinceMs: now - 3_600_000,
      nowMs: now,
      limit: 20,
    });
    // Assert
    expect(found.length).toBeGreaterThanOrEqual(2);
    expect(new Set(found.map((e) => e.incidentKey))).toEqual(new Set([arnOf('checkout-errors')]));
    expect(found.map((e) => e.signalKind)).toContain('alarm.state-change');
    expect(found.some((e) => e.detail.includes('resolve'))).toBe(true);
    expect([...found.map((e) => e.at)]).toEqual([...found.map((e) => e.at)].sort().reverse());
  });

  it('finds the last decisions across incidents by time, within the limit, without a scan', async () => {
    // Arrange
    await twoIncidents();
    const now = Date.now();
    // Act
    const last = await queryDecisions(documents, {
      table: stack.tableName,
      sinceMs: now - 3_600_000,
      nowMs: now,
      limit: 2,
    });
    const all = await queryDecisions(documents, {
      table: stack.tableName,
      sinceMs: now - 3_600_000,
      nowMs: now,
      limit: 100,
    });
    const later = await queryDecisions(documents, {
      table: stack.tableName,
      sinceMs: now + 60_000,
      nowMs: now + 60_000,
      limit: 100,
    });
    // Assert
    expect(last).toHaveLength(2);
    expect(last[0]?.incidentKey).toBe(arnOf('search-errors'));
    expect(new Set(all.map((e) => e.incidentKey))).toEqual(
      new Set([arnOf('checkout-errors'), arnOf('search-errors')]),
    );
    expect(later).toEqual([]);
  });

  it('prints the decisions as a readable table with npm run decisions', async () => {
    // Arrange
    await twoIncidents();
    // Act
    const { stdout } = await run(
      'npx',
      ['tsx', 'scripts/decisions.ts', '--table', stack.tableName, '--since', '1h', '--limit', '5'],
      {
        cwd: ROOT,
        env: { ...process.env },
      },
    );
    // Assert
    expect(stdout).toContain('correlation id');
    expect(stdout).toContain('search-errors');
    expect(stdout).toContain('(dry-run)');
  });

  it('reads the stage --stage names even when STATE_TABLE_NAME names another stage, and says which table it read', async () => {
    // Arrange: this file's table holds decisions and STATE_TABLE_NAME names it (as local:up's exports
    // leave it); the quiet stage's table holds none.
    await twoIncidents();
    const quiet = await createLocalStack('ops-autopilot-quiet');
    // Act
    const { stdout } = await run(
      'npx',
      ['tsx', 'scripts/decisions.ts', '--stage', 'quiet', '--since', '1h'],
      {
        cwd: ROOT,
        env: { ...process.env, STATE_TABLE_NAME: stack.tableName },
      },
    );
    // Assert
    expect(stdout.split('\n')[0]).toBe(
      `Decisions in ${quiet.tableName} (us-east-1), from --stage quiet; STATE_TABLE_NAME=${stack.tableName} ignored`,
    );
    expect(stdout).toContain('No decisions found.');
    expect(stdout).not.toContain('search-errors');
  });

  it('reads the table --table names over both --stage and STATE_TABLE_NAME', async () => {
    // Arrange
    await twoIncidents();
    const quiet = await createLocalStack('ops-autopilot-quiet');
    // Act
    const { stdout } = await run(
      'npx',
      ['tsx', 'scripts/decisions.ts', '--table', stack.tableName, '--stage', 'quiet', '--since', '1h'],
      { cwd: ROOT, env: { ...process.env, STATE_TABLE_NAME: quiet.tableName } },
    );
    // Assert
    expect(stdout.split('\n')[0]).toBe(`Decisions in ${stack.tableName} (us-east-1), from --table`);
    expect(stdout).toContain('search-errors');
  });

  it('says so when nothing was decided', () => {
    // Arrange
    const entries: never[] = [];
    // Act
    const table = decisionsTable(entries);
    // Assert
    expect(table).toBe('No decisions found.');
  });
});
