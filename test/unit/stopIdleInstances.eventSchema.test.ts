import { describe, expect, it } from 'vitest';
import { IdleScanEvent } from '#functions/stopIdleInstances/schema.ts';
import { resolveIdleRun } from '#functions/stopIdleInstances/settings.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { runFor, scheduled, stage } from '../support/idlePlan.ts';

describe('the stopIdleInstances event schema', () => {
  it.each([
    'stopIdleInstances/scheduled-event.json',
    'stopIdleInstances/manual-dry-run.json',
    'stopIdleInstances/manual-overrides.json',
  ])('accepts %s', (path) => {
    // Act
    const parsed = IdleScanEvent.safeParse(loadFixture(path));
    // Assert
    expect(parsed.success).toBe(true);
  });

  it('accepts a replayed scheduled event (EventBridge adds replay-name)', () => {
    // Act
    const parsed = IdleScanEvent.safeParse({ ...scheduled(), 'replay-name': 'archive-replay' });
    // Assert
    expect(parsed.success).toBe(true);
  });

  it('accepts an empty manual payload', () => {
    // Act
    const parsed = IdleScanEvent.safeParse({});
    // Assert
    expect(parsed.data).toEqual({});
  });

  it.each([
    [
      'stopIdleInstances/invalid/unknown-key.json',
      '(event)',
      'unknown key(s) "dryrun"; allowed: dryRun, lookbackHours',
    ],
    ['stopIdleInstances/invalid/bad-threshold.json', 'cpuThresholdPercent', 'expected number to be <=100'],
    [
      'stopIdleInstances/invalid/scheduled-dry-run.json',
      '(event)',
      'unknown key(s) "dryRun"; allowed: version, id, source',
    ],
    ['stopIdleInstances/invalid/scheduled-max-stops.json', '(event)', 'unknown key(s) "maxStopsPerHour"'],
  ])('rejects %s, naming the field', (path, field, message) => {
    // Act
    const parsed = IdleScanEvent.safeParse(loadFixture(path));
    // Assert
    const [issue, ...rest] = parsed.error?.issues ?? [];
    expect(rest).toEqual([]);
    expect(issue?.path.join('.') || '(event)').toBe(field);
    expect(issue?.message).toContain(message);
  });

  it.each([
    [{ lookbackHours: 0 }, 'lookbackHours'],
    [{ lookbackHours: 1.5 }, 'lookbackHours'],
    [{ maxStopsPerHour: -1 }, 'maxStopsPerHour'],
    [{ dryRun: 'yes' }, 'dryRun'],
    [
      { ...loadFixture('stopIdleInstances/scheduled-event.json'), 'detail-type': 'Object Created' },
      'detail-type',
    ],
    [{ ...loadFixture('stopIdleInstances/scheduled-event.json'), detail: { dryRun: false } }, 'detail'],
  ])('rejects %j at %s', (payload, field) => {
    // Act
    const parsed = IdleScanEvent.safeParse(payload);
    // Assert
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([field]);
  });

  it('rejects the old per-run key, naming the hourly one', () => {
    // Act
    const parsed = IdleScanEvent.safeParse({ maxStopsPerRun: 5 });
    // Assert
    expect(parsed.error?.issues[0]?.message).toContain(
      'unknown key(s) "maxStopsPerRun"; "maxStopsPerRun" is now "maxStopsPerHour"',
    );
  });

  it('rejects a payload that is not an object', () => {
    // Act
    const parsed = IdleScanEvent.safeParse('dryRun');
    // Assert
    expect(parsed.success).toBe(false);
  });
});

describe('the limits on manual overrides', () => {
  it('takes a scheduled run from the stage settings alone', () => {
    // Act
    const run = runFor(scheduled(), stage(true, { scope: 'opt-out', maxStopsPerHour: 3 }));
    // Assert
    expect(run).toEqual({
      trigger: 'schedule',
      dryRun: true,
      scope: 'opt-out',
      policy: {
        lookbackHours: 24,
        cpuThresholdPercent: 5,
        networkThresholdBytesPerHour: 5_000_000,
        minCoverage: 0.9,
      },
      maxStopsPerHour: 3,
      overrides: {},
    });
  });

  it('applies overrides within the ceilings and records them', () => {
    // Act
    const run = runFor(loadFixture('stopIdleInstances/manual-overrides.json'), stage(false));
    // Assert
    expect(run).toMatchObject({
      trigger: 'manual',
      dryRun: true,
      policy: {
        lookbackHours: 48,
        cpuThresholdPercent: 2,
        networkThresholdBytesPerHour: 1_000_000,
        minCoverage: 0.9,
      },
      maxStopsPerHour: 5,
      overrides: { dryRun: true, lookbackHours: 48, maxStopsPerHour: 5 },
    });
  });

  it('lets a manual payload turn dry-run on always, and off only on a live stage', () => {
    // Act
    const onLive = resolveIdleRun({ dryRun: true }, stage(false));
    const offLive = resolveIdleRun({ dryRun: false }, stage(false));
    const offDry = resolveIdleRun({ dryRun: false }, stage(true));
    // Assert
    expect(onLive).toMatchObject({ ok: true, run: { dryRun: true } });
    expect(offLive).toMatchObject({ ok: true, run: { dryRun: false } });
    expect(offDry).toEqual({
      ok: false,
      issues: [{ path: 'dryRun', message: 'false is not allowed: this stage runs in dry-run mode' }],
    });
  });

  it('allows fewer stops than the stage, and refuses more', () => {
    // Act
    const fewer = resolveIdleRun({ maxStopsPerHour: 0 }, stage(false, { maxStopsPerHour: 4 }));
    const more = resolveIdleRun({ maxStopsPerHour: 5 }, stage(false, { maxStopsPerHour: 4 }));
    // Assert
    expect(fewer).toMatchObject({ ok: true, run: { maxStopsPerHour: 0 } });
    expect(more).toMatchObject({ ok: false, issues: [{ path: 'maxStopsPerHour' }] });
  });

  it('names every override beyond the ceilings at once', () => {
    // Arrange
    const ceilings = {
      overrides: { minLookbackHours: 12, maxCpuThresholdPercent: 8, maxNetworkThresholdBytesPerHour: 10 },
    };
    // Act
    const resolved = resolveIdleRun(
      { lookbackHours: 6, cpuThresholdPercent: 9, networkThresholdBytesPerHour: 11 },
      stage(false, ceilings),
    );
    // Assert
    expect(resolved.ok ? [] : resolved.issues.map((i) => i.path)).toEqual([
      'lookbackHours',
      'cpuThresholdPercent',
      'networkThresholdBytesPerHour',
    ]);
  });

  it('accepts overrides exactly at the ceilings', () => {
    // Arrange
    const ceilings = {
      overrides: { minLookbackHours: 12, maxCpuThresholdPercent: 8, maxNetworkThresholdBytesPerHour: 10 },
    };
    // Act
    const resolved = resolveIdleRun(
      { lookbackHours: 12, cpuThresholdPercent: 8, networkThresholdBytesPerHour: 10, maxStopsPerHour: 10 },
      stage(false, ceilings),
    );
    // Assert
    expect(resolved.ok).toBe(true);
  });
});
