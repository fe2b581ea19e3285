import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from '#shared/state/table.ts';

/**
 * The fan-in of one scan run of one account (docs/ORGANIZATION.md, "One summary page per account"):
 * the scan fans out per (account, region); each region's run records here what it stopped or would
 * stop, and the run that completes the record, the last region to finish, pages the account's one
 * summary. One record per run and account, in the function's own state records (no new grant): each
 * region's result is an attribute of its own, written once (a retry finds it and adds nothing), and
 * the count of regions done is added in the same conditional update, so of regions finishing at the
 * same moment exactly one sees the count complete. A record the next runs' sweep closed (a region that
 * never finished, scanSweep.ts) takes no more regions: its summary went out already.
 */

/** What came of one region's stops, for the account's summary. */
export type RegionResult = 'stopped' | 'would-stop' | 'awaits-approval' | 'not-stopped' | 'nothing';

/** What one region's run found, for the account's summary (a page lists at most a few ids per region). */
export interface RegionScanned {
  region: string;
  /** The instances stopped, or to stop when `previewed` (dry-run), in this region. */
  stops: string[];
  previewed: boolean;
  result: RegionResult;
  /** The region's own lines of the summary: what its stop came to and each stop's evidence, bounded. */
  lines: string[];
}

/**
 * What every region of the record shares in the summary (`accountPage`): the first region's page
 * evidence and reason. Attribute names avoid DynamoDB's reserved words (`base`, `closed`).
 */
export interface FanInBase {
  evidence: Record<string, string | number | boolean>;
  reason: string;
}

export interface FanIn {
  /** This run completes the record: it pages the account's summary (a retry of it pages again, deduplicated by the page's incident). */
  pages: boolean;
  /** The regions recorded so far, in the run's order. */
  regions: RegionScanned[];
  /** The run's regions not recorded yet. */
  missing: string[];
  /** The sweep closed the record (a region never finished) and paged its summary: nobody pages it again. */
  closed?: true;
  /** The scheduled run whose sweep closed it: its retry may page again (deduplicated by the incident). */
  closedBy?: string;
  base?: FanInBase;
}

/** Kept a day: long past the last retry of a region's message (five receives, 1,800 s apart). */
export const KEPT_SECONDS = DAY;
/** Stop ids kept per region: the summary names a few; the count and the action log say the rest. */
export const IDS_PER_REGION = 20;
/** A region's lines in the summary, each at most LINE_CHARS: with 20 regions the record stays far under 400 KB. */
export const LINES_PER_REGION = 30;
const LINE_CHARS = 300;

export const fanInKey = (run: string, account: string) => stateKey('scan-fan-in', run, account);
const attributeOf = (region: string) => `region_${region}`;

/** The record as the summary reads it (pure). */
export function fanInOf(
  item: Record<string, unknown> | undefined,
  regions: readonly string[],
): Omit<FanIn, 'pages'> {
  const recorded = regions.flatMap((region) => {
    const result = item?.[attributeOf(region)] as RegionScanned | undefined;
    return result ? [result] : [];
  });
  const done = new Set(recorded.map((r) => r.region));
  const base = item?.accountPage as FanInBase | undefined;
  return {
    regions: recorded,
    missing: regions.filter((r) => !done.has(r)),
    ...(item?.closedAt !== undefined ? { closed: true as const } : {}),
    ...(typeof item?.closedBy === 'string' ? { closedBy: item.closedBy } : {}),
    ...(base ? { base } : {}),
  };
}

/** The region's result within the record's bounds. */
const bounded = (scanned: RegionScanned): RegionScanned => ({
  ...scanned,
  stops: scanned.stops.slice(0, IDS_PER_REGION),
  lines: scanned.lines
    .slice(0, LINES_PER_REGION)
    .map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS - 3)}...` : l)),
});

/**
 * Records `scanned` for `run` and `account`, one of the run's `regions` (organization.regions), and says
 * whether this run pages the account's summary. A region outside the run's is refused, naming it.
 */
export async function recordRegionScanned(
  run: string,
  account: string,
  regions: readonly string[],
  scanned: RegionScanned,
  base?: FanInBase,
): Promise<FanIn> {
  if (!regions.includes(scanned.region)) {
    throw new Error(`region ${scanned.region} is not one of the run's regions (${regions.join(', ')})`);
  }
  const key = { id: fanInKey(run, account) };
  try {
    const answer = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: key,
        UpdateExpression: `SET #region = :result, regionsExpected = :expected, expiration = :expiration${base ? ', accountPage = if_not_exists(accountPage, :base)' : ''} ADD regionsDone :one`,
        // Written once per region (a retried region's run adds nothing), and never after the sweep
        // closed the record: its summary is out, a late region's result stays in its action log.
        ConditionExpression: 'attribute_not_exists(#region) AND attribute_not_exists(closedAt)',
        ExpressionAttributeNames: { '#region': attributeOf(scanned.region) },
        ExpressionAttributeValues: {
          ':result': bounded(scanned),
          ':expected': regions.length,
          ':expiration': nowSeconds() + KEPT_SECONDS,
          ':one': 1,
          ...(base ? { ':base': base } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = answer.Attributes;
    return { pages: Number(item?.regionsDone) === regions.length, ...fanInOf(item, regions) };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    // A retry of a region already recorded: it pages if the record is complete, since the run that
    // completed it may have failed before its page went out. A closed record's summary is out.
    const read = await documents.send(
      new GetCommand({ TableName: stateTable(), Key: key, ConsistentRead: true }),
    );
    const fanIn = fanInOf(read.Item, regions);
    return { pages: fanIn.missing.length === 0 && !fanIn.closed, ...fanIn };
  }
}

/**
 * Closes a record whose regions did not all finish, for the sweep of scheduled run `by`: true when this
 * call closed it (or `by` did before: a retry of that run, whose page may not have gone out), false when
 * a late region completed it meanwhile (that region pages) or another run's sweep closed it.
 */
export async function closeUnfinished(
  run: string,
  account: string,
  expected: number,
  by: string,
): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: fanInKey(run, account) },
        UpdateExpression: 'SET closedAt = :now, closedBy = :by',
        ConditionExpression:
          '(attribute_exists(regionsDone) AND attribute_not_exists(closedAt) AND regionsDone < :expected) OR closedBy = :by',
        ExpressionAttributeValues: { ':now': nowSeconds(), ':expected': expected, ':by': by },
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return false;
  }
}
