import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { type RegionScanned, recordRegionScanned } from '#shared/organization/scanFanIn.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { type Latch, latch } from '../support/latch.ts';

// Handler layer: the fan-in record of one scan run of one account (docs/ORGANIZATION.md, "One summary
// page per account"): each region's run records what it found, and exactly one, the last to finish,
// is told to page the account's summary. The state table is an in-memory table that applies the
// update the code sends (the SET of the region's result once, the ADD of the count) atomically.
const aws = await mockAwsClients();
const documents = aws.of(DynamoDBDocumentClient);
const table = new Map<string, Record<string, unknown>>();
let holdUpdates: { count: number; all: Latch } | undefined;

const conditionalFailure = () =>
  Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

async function update(input: UpdateCommandInput) {
  // Hold the first updates until all have arrived: the regions then finish at the same moment.
  if (holdUpdates && holdUpdates.count > 0) {
    holdUpdates.count--;
    if (holdUpdates.count === 0) holdUpdates.all.open();
    await holdUpdates.all.opened;
  }
  const id = String(input.Key?.id);
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  const item = structuredClone(table.get(id) ?? { id });
  const regionAttribute = names['#region'] as string;
  if (item[regionAttribute] !== undefined) throw conditionalFailure();
  item[regionAttribute] = values[':result'];
  item.regionsExpected = values[':expected'];
  item.expiration = values[':expiration'];
  item.regionsDone = Number(item.regionsDone ?? 0) + Number(values[':one']);
  table.set(id, item);
  return { Attributes: structuredClone(item) };
}

async function get(input: GetCommandInput) {
  const item = table.get(String(input.Key?.id));
  return item ? { Item: structuredClone(item) } : {};
}

const REGIONS = ['eu-west-1', 'us-east-1'] as const;
const ACCOUNT = '222222222222';
const found = (region: string, stops: string[]): RegionScanned => ({
  region,
  stops,
  previewed: false,
  result: stops.length > 0 ? 'stopped' : 'nothing',
  lines: [],
});

beforeEach(() => {
  aws.reset();
  table.clear();
  holdUpdates = undefined;
  documents.on(UpdateCommand).callsFake(update);
  documents.on(GetCommand).callsFake(get);
  process.env.STATE_TABLE_NAME = 'state';
  resetConfigForTests();
});

describe("an account's scan regions joined into one summary", () => {
  it('tells only the last region to finish to page, with every region of the account', async () => {
    // Act
    const first = await recordRegionScanned('run-1', ACCOUNT, REGIONS, found('eu-west-1', ['i-1']));
    const last = await recordRegionScanned('run-1', ACCOUNT, REGIONS, found('us-east-1', ['i-2', 'i-3']));
    // Assert
    expect(first).toMatchObject({ pages: false, missing: ['us-east-1'] });
    expect(last).toMatchObject({ pages: true, missing: [] });
    expect(last.regions).toEqual([found('eu-west-1', ['i-1']), found('us-east-1', ['i-2', 'i-3'])]);
  });

  it('tells the one region of a one-region run to page at once', async () => {
    // Act
    const only = await recordRegionScanned('run-1', ACCOUNT, ['eu-west-1'], found('eu-west-1', ['i-1']));
    // Assert
    expect(only).toMatchObject({ pages: true, missing: [] });
  });

  it('tells exactly one of two regions finishing at the same moment to page', async () => {
    // Arrange
    holdUpdates = { count: 2, all: latch() };
    // Act
    const results = await Promise.all(
      REGIONS.map((region) => recordRegionScanned('run-1', ACCOUNT, REGIONS, found(region, []))),
    );
    // Assert
    expect(results.filter((r) => r.pages)).toHaveLength(1);
  });

  it("lets a region's retried run page again once complete, without counting it twice", async () => {
    // Arrange: both regions recorded; the last one's run failed after recording, before paging.
    await recordRegionScanned('run-1', ACCOUNT, REGIONS, found('eu-west-1', []));
    await recordRegionScanned('run-1', ACCOUNT, REGIONS, found('us-east-1', ['i-2']));
    // Act
    const retry = await recordRegionScanned('run-1', ACCOUNT, REGIONS, found('us-east-1', ['i-2']));
    // Assert: the page's incident (run and account) suppresses a second page if the first went out.
    expect(retry).toMatchObject({ pages: true, missing: [] });
    expect([...table.values()][0]?.regionsDone).toBe(2);
  });

  it('refuses a region that is not one of the run, naming it', async () => {
    // Act
    const act = recordRegionScanned('run-1', ACCOUNT, REGIONS, found('ap-south-1', []));
    // Assert
    await expect(act).rejects.toThrow(/region ap-south-1 is not one of the run's regions/);
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
