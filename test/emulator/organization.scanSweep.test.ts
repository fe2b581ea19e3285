import { describe, expect, it } from 'vitest';
import { closeUnfinished, type RegionScanned, recordRegionScanned } from '#shared/organization/scanFanIn.ts';
import { recordRunFannedOut, unfinishedFanIns } from '#shared/organization/scanSweep.ts';
import { useEmulatedStack } from '../support/emulator.ts';

// Emulator layer: the fan-in record, the sweep's hourly index and the sweep's close, against moto's
// DynamoDB (the stack's state table), so their update and condition expressions are held to DynamoDB's
// rules (reserved words, conditions on missing attributes). The handler tests mock the table.
useEmulatedStack('ops-autopilot-org');

const REGIONS = ['eu-west-1', 'us-east-1'];
const ACCOUNT = '111111111111';
const RUN_AT = '2025-06-21T10:00:00Z';
const SWEEP_AT = '2025-06-21T13:00:00Z';
const stopped = (region: string): RegionScanned => ({
  region,
  stops: ['i-0a'],
  previewed: false,
  result: 'stopped',
  lines: ['DONE ec2.stop-instances: stopped 1 of 1 instance(s): i-0a'],
});
const base = { evidence: { 'account name': 'payments-prod' }, reason: 'idle' };

describe('the fan-in record and its sweep in a real table', () => {
  it('finds an unfinished record of a run 3 hours before, closes it once, and a late region then records nothing', async () => {
    // Arrange: the run fans out over one account and two regions; one region records.
    await recordRunFannedOut({ run: 'run-1', scheduledAt: RUN_AT, accounts: [ACCOUNT], regions: REGIONS });
    const first = await recordRegionScanned('run-1', ACCOUNT, REGIONS, stopped('eu-west-1'), base);
    // Act
    const swept = await unfinishedFanIns(SWEEP_AT, 'run-4');
    const closed = await closeUnfinished('run-1', ACCOUNT, REGIONS.length, 'run-4');
    const closedByAnother = await closeUnfinished('run-1', ACCOUNT, REGIONS.length, 'run-5');
    const late = await recordRegionScanned('run-1', ACCOUNT, REGIONS, stopped('us-east-1'), base);
    // Assert
    expect(first).toMatchObject({ pages: false, missing: ['us-east-1'] });
    expect(swept.unfinished).toHaveLength(1);
    expect(swept.unfinished[0]).toMatchObject({ run: 'run-1', account: ACCOUNT, runRegions: REGIONS });
    expect(swept.unfinished[0]?.fanIn).toMatchObject({ missing: ['us-east-1'], base });
    expect([closed, closedByAnother]).toEqual([true, false]);
    expect(late).toMatchObject({ pages: false, closed: true, missing: ['us-east-1'] });
    // The sweeping run's retry still finds it (its page may not have gone out); another run does not.
    expect((await unfinishedFanIns(SWEEP_AT, 'run-4')).unfinished).toHaveLength(1);
    expect((await unfinishedFanIns(SWEEP_AT, 'run-5')).unfinished).toHaveLength(0);
  });

  it('leaves a completed record to its last region: the sweep neither finds nor closes it', async () => {
    // Arrange
    await recordRunFannedOut({ run: 'run-1', scheduledAt: RUN_AT, accounts: [ACCOUNT], regions: REGIONS });
    await recordRegionScanned('run-1', ACCOUNT, REGIONS, stopped('eu-west-1'), base);
    const last = await recordRegionScanned('run-1', ACCOUNT, REGIONS, stopped('us-east-1'), base);
    // Act
    const swept = await unfinishedFanIns(SWEEP_AT, 'run-4');
    const closed = await closeUnfinished('run-1', ACCOUNT, REGIONS.length, 'run-4');
    // Assert
    expect(last).toMatchObject({ pages: true, missing: [] });
    expect(swept.unfinished).toHaveLength(0);
    expect(closed).toBe(false);
  });

  it('reads only the runs 2.5 to 3.5 hours before the sweep', async () => {
    // Arrange
    await recordRunFannedOut({ run: 'run-1', scheduledAt: RUN_AT, accounts: [ACCOUNT], regions: REGIONS });
    await recordRegionScanned('run-1', ACCOUNT, REGIONS, stopped('eu-west-1'), base);
    // Act
    const tooEarly = await unfinishedFanIns('2025-06-21T12:00:00Z', 'run-3');
    const tooLate = await unfinishedFanIns('2025-06-21T14:00:00Z', 'run-5');
    // Assert
    expect(tooEarly.unfinished).toHaveLength(0);
    expect(tooLate.unfinished).toHaveLength(0);
  });
});
