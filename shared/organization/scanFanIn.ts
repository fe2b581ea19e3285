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
 * same moment exactly one sees the count complete.
 */

/** What one region's run found, for the account's summary (a page lists at most a few ids per region). */
export interface RegionScanned {
  region: string;
  /** The instances stopped, or to stop when `previewed` (dry-run), in this region. */
  stops: string[];
  previewed: boolean;
}

export interface FanIn {
  /** This run completes the record: it pages the account's summary (a retry of it pages again, deduplicated by the page's incident). */
  pages: boolean;
  /** The regions recorded so far, in the run's order. */
  regions: RegionScanned[];
  /** The run's regions not recorded yet. */
  missing: string[];
}

/** Kept a day: long past the last retry of a region's message (five receives, 1,800 s apart). */
const KEPT_SECONDS = DAY;
/** Stop ids kept per region: the summary names a few; the count and the action log say the rest. */
const IDS_PER_REGION = 20;

const recordKey = (run: string, account: string) => stateKey('scan-fan-in', run, account);
const attributeOf = (region: string) => `region_${region}`;

function fanInOf(
  item: Record<string, unknown> | undefined,
  regions: readonly string[],
): Omit<FanIn, 'pages'> {
  const recorded = regions.flatMap((region) => {
    const result = item?.[attributeOf(region)] as RegionScanned | undefined;
    return result ? [result] : [];
  });
  const done = new Set(recorded.map((r) => r.region));
  return { regions: recorded, missing: regions.filter((r) => !done.has(r)) };
}

/**
 * Records `scanned` for `run` and `account`, one of the run's `regions` (organization.regions), and says
 * whether this run pages the account's summary. A region outside the run's is refused, naming it.
 */
export async function recordRegionScanned(
  run: string,
  account: string,
  regions: readonly string[],
  scanned: RegionScanned,
): Promise<FanIn> {
  if (!regions.includes(scanned.region)) {
    throw new Error(`region ${scanned.region} is not one of the run's regions (${regions.join(', ')})`);
  }
  const key = { id: recordKey(run, account) };
  const result: RegionScanned = { ...scanned, stops: scanned.stops.slice(0, IDS_PER_REGION) };
  try {
    const answer = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: key,
        UpdateExpression:
          'SET #region = :result, expected = :expected, expiration = :expiration ADD regionsDone :one',
        // Written once per region: a retried region's run adds nothing.
        ConditionExpression: 'attribute_not_exists(#region)',
        ExpressionAttributeNames: { '#region': attributeOf(scanned.region) },
        ExpressionAttributeValues: {
          ':result': result,
          ':expected': regions.length,
          ':expiration': nowSeconds() + KEPT_SECONDS,
          ':one': 1,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = answer.Attributes;
    return { pages: Number(item?.regionsDone) === regions.length, ...fanInOf(item, regions) };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    // A retry of a region already recorded: it pages if the record is complete, since the run that
    // completed it may have failed before its page went out.
    const read = await documents.send(
      new GetCommand({ TableName: stateTable(), Key: key, ConsistentRead: true }),
    );
    const fanIn = fanInOf(read.Item, regions);
    return { pages: fanIn.missing.length === 0, ...fanIn };
  }
}
