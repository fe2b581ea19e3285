import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { nowSeconds, stateKey, stateTable } from '#shared/state/table.ts';
import { type FanIn, fanInKey, fanInOf, KEPT_SECONDS } from './scanFanIn.ts';

/**
 * The sweep for regions that never finish (docs/ORGANIZATION.md, "One summary page per account"). A
 * region whose message fails five receives is parked in the dead-letter queue and never records, so its
 * account's fan-in record never completes and nobody pages its summary. Each scheduled run, before it
 * fans out, reads the fan-in records of the runs that fanned out 2.5 to 3.5 hours before it (older than
 * the retries can last), and pages the summary of each still incomplete one that stopped or would stop
 * something, closing it so that a late region pages no second summary.
 *
 * How it finds them without a Scan: the state table's one key is a string `id` (no sort key to query a
 * prefix of), and a run's id is its scheduled event's id, which no schedule predicts. So each fan-out
 * writes its run, accounts and regions into an index record per UTC hour of its schedule (the function's
 * own records: no new grant); the sweep reads the one or two hours of its window, then each (run,
 * account) record with GetItem, at most MAX_SWEPT_RECORDS per sweep.
 */

/** How long a region's message can still be retried: five receives, a visibility timeout of 1,800 s apart. */
export const RETRIES_LAST_SECONDS = 5 * 1800;
/** The runs a sweep reads: those that fanned out within the hour before RETRIES_LAST_SECONDS ago. */
const SWEEP_WINDOW_SECONDS = 3600;
/** The fan-in records one sweep reads at most (one GetItem each); the rest are logged as left out. */
export const MAX_SWEPT_RECORDS = 100;
/** GetItem calls in flight at once. */
const READS_AT_ONCE = 10;

export interface FannedOutRun {
  run: string;
  scheduledAt: string;
  accounts: string[];
  regions: string[];
}

/** An incomplete fan-in record of an earlier run, found by the sweep. */
export interface UnfinishedFanIn {
  run: string;
  account: string;
  scheduledAt: string;
  /** The run's regions: the summary lists those it lacks as not read. */
  runRegions: string[];
  fanIn: Omit<FanIn, 'pages'>;
}

const hourOf = (iso: string) => new Date(iso).toISOString().slice(0, 13);
const indexKey = (hour: string) => stateKey('scan-fan-in-runs', hour);

/** Records a run's targets in its hour's index (a retried fan-out writes the same entry again). */
export async function recordRunFannedOut(entry: FannedOutRun): Promise<void> {
  await documents.send(
    new UpdateCommand({
      TableName: stateTable(),
      Key: { id: indexKey(hourOf(entry.scheduledAt)) },
      UpdateExpression: 'SET #run = :entry, expiration = :expiration',
      ExpressionAttributeNames: { '#run': `run_${entry.run}` },
      ExpressionAttributeValues: { ':entry': entry, ':expiration': nowSeconds() + KEPT_SECONDS },
    }),
  );
}

/** The runs that fanned out in the sweep's window before `at` (the sweeping run's scheduled time). */
async function runsToSweep(at: string): Promise<FannedOutRun[]> {
  const end = Date.parse(at) - RETRIES_LAST_SECONDS * 1000;
  const start = end - SWEEP_WINDOW_SECONDS * 1000;
  const hours = [...new Set([hourOf(new Date(start).toISOString()), hourOf(new Date(end).toISOString())])];
  const items = await Promise.all(
    hours.map((hour) =>
      documents.send(new GetCommand({ TableName: stateTable(), Key: { id: indexKey(hour) } })),
    ),
  );
  return items
    .flatMap((answer) =>
      Object.entries(answer.Item ?? {})
        .filter(([name]) => name.startsWith('run_'))
        .map(([, entry]) => entry as FannedOutRun),
    )
    .filter((r) => {
      const t = Date.parse(r.scheduledAt);
      return t > start && t <= end;
    })
    .sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt) || a.run.localeCompare(b.run));
}

/**
 * The incomplete fan-in records of the runs in the sweep's window before `at`, not closed by another
 * run than `by` (the sweeping run: its retry finishes its own sweep), at most MAX_SWEPT_RECORDS of them
 * read; `leftOut` counts the (run, account) records not read.
 */
export async function unfinishedFanIns(
  at: string,
  by: string,
): Promise<{ unfinished: UnfinishedFanIn[]; leftOut: number }> {
  const runs = await runsToSweep(at);
  const pairs = runs.flatMap((r) => r.accounts.map((account) => ({ entry: r, account })));
  const read = pairs.slice(0, MAX_SWEPT_RECORDS);
  const unfinished: UnfinishedFanIn[] = [];
  for (let from = 0; from < read.length; from += READS_AT_ONCE) {
    const answers = await Promise.all(
      read.slice(from, from + READS_AT_ONCE).map(async ({ entry, account }) => {
        const answer = await documents.send(
          new GetCommand({ TableName: stateTable(), Key: { id: fanInKey(entry.run, account) } }),
        );
        return { entry, account, item: answer.Item };
      }),
    );
    for (const { entry, account, item } of answers) {
      // No record: no region recorded anything (the account off, or every region failed): no summary.
      if (!item) continue;
      const fanIn = fanInOf(item, entry.regions);
      if ((fanIn.closed && fanIn.closedBy !== by) || fanIn.missing.length === 0) continue;
      unfinished.push({
        run: entry.run,
        account,
        scheduledAt: entry.scheduledAt,
        runRegions: entry.regions,
        fanIn,
      });
    }
  }
  return { unfinished, leftOut: pairs.length - read.length };
}
