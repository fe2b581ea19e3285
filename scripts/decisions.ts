// npm run decisions -- [--approvals] [--incident KEY] [--since 1h] [--limit 20] [--stage prod | --table NAME]
// The last decisions from the action log as a table, newest first, read from its indexes (no scan);
// with --approvals, the pending and expired approvals instead.
// The first line names the table and region read: --table, else --stage, else STATE_TABLE_NAME.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryDecisions } from '#shared/state/actionLogQuery.ts';
import { queryApprovals } from '#shared/state/approvalQuery.ts';
import { decisionsArguments } from './decisions/arguments.ts';
import { DecisionsUsageError, readingLine, stateTableToRead } from './decisions/stateTable.ts';
import { approvalsTable, decisionsTable } from './decisions/table.ts';

const parsed = decisionsArguments(process.argv.slice(2));
if (parsed.kind === 'help') {
  console.log(parsed.usage);
  process.exit(0);
}
if (parsed.kind === 'usage-error') {
  console.error(`decisions: ${parsed.message}\n${parsed.usage}`);
  process.exit(2);
}
const { sinceMs, limit, options: values } = parsed;
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
  if (values.approvals) {
    const rows = await queryApprovals(client, { table, sinceMs: now - sinceMs, nowMs: now, limit });
    console.log(approvalsTable(rows));
    process.exit(0);
  }
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
