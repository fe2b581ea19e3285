// npm run decisions -- [--incident KEY] [--since 1h] [--limit 20] [--stage prod | --table NAME]
// The last decisions from the action log as a table, newest first, read from its indexes (no scan).
// The first line names the table and region read: --table, else --stage, else STATE_TABLE_NAME.
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseSince, queryDecisions } from '#shared/state/actionLogQuery.ts';
import { DecisionsUsageError, readingLine, stateTableToRead } from './decisions/stateTable.ts';
import { decisionsTable } from './decisions/table.ts';

const { values } = parseArgs({
  options: {
    incident: { type: 'string' },
    since: { type: 'string', default: '24h' },
    limit: { type: 'string', default: '20' },
    stage: { type: 'string' },
    table: { type: 'string' },
  },
});

const sinceMs = parseSince(values.since);
const limit = Number(values.limit);
if (sinceMs === undefined || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
  console.error(
    'usage: npm run decisions -- [--incident KEY] [--since 30m|1h|7d] [--limit 1..1000] [--stage NAME | --table NAME]',
  );
  process.exit(2);
}
let choice: ReturnType<typeof stateTableToRead>;
try {
  choice = stateTableToRead(values, process.env);
} catch (error) {
  if (!(error instanceof DecisionsUsageError)) throw error;
  console.error(`decisions: ${error.message}`);
  process.exit(2);
}
const { table } = choice;
const now = Date.now();
const dynamodb = new DynamoDBClient({});
const client = DynamoDBDocumentClient.from(dynamodb);
try {
  console.log(readingLine(choice, await dynamodb.config.region()));
  const entries = await queryDecisions(client, {
    table,
    ...(values.incident ? { incident: values.incident } : {}),
    sinceMs: now - sinceMs,
    nowMs: now,
    limit,
  });
  console.log(decisionsTable(entries));
} catch (error) {
  console.error(`could not read the action log of ${table}: ${(error as Error).message}`);
  process.exit(1);
}
