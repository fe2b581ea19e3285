import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { ConfigError } from '#shared/config.ts';
import { RateGuardSettings, rateLimitFor } from '#shared/runtime/rateGuardSettings.ts';
import { windowOf } from '#shared/state/rateGuard.ts';

describe('rate guard settings', () => {
  it('default to 10 actions per rule per 60 minutes, and let one rule override either value', () => {
    // Arrange
    const settings = RateGuardSettings.parse({ rules: { 'idle-stop': { maxActions: 2 } } });
    // Act
    const idle = rateLimitFor(settings, 'idle-stop');
    const other = rateLimitFor(settings, 'web-cpu');
    // Assert
    expect(idle).toEqual({ maxActions: 2, windowMinutes: 60 });
    expect(other).toEqual({ maxActions: 10, windowMinutes: 60 });
  });

  it.each([
    [{ maxActions: 0 }, 'rateGuard.maxActions'],
    [{ maxActions: 1001 }, 'rateGuard.maxActions'],
    [{ windowMinutes: 0 }, 'rateGuard.windowMinutes'],
    [{ windowMinutes: 1441 }, 'rateGuard.windowMinutes'],
    [{ rules: { 'web-cpu': { maxActions: 1.5 } } }, 'rateGuard.rules.web-cpu.maxActions'],
    [{ limit: 3 }, 'rateGuard'],
  ])('refuse a stage with rateGuard %j, naming %s', (rateGuard, field) => {
    // Act
    const parse = () => parseStageConfig('test', { dryRun: true, rateGuard });
    // Assert
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(field);
  });
});

describe('rate guard windows', () => {
  it('are fixed from the epoch: every delivery inside one window counts in the same record', () => {
    // Arrange
    const hour = 3600;
    // Act
    const start = windowOf({ windowSeconds: hour, atMs: Date.parse('2026-11-22T10:00:00Z') });
    const end = windowOf({ windowSeconds: hour, atMs: Date.parse('2026-11-22T10:59:59.999Z') });
    const next = windowOf({ windowSeconds: hour, atMs: Date.parse('2026-11-22T11:00:00Z') });
    // Assert
    expect(start).toEqual(end);
    expect(new Date(start.start * 1000).toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(next.start).toBe(start.end);
  });
});
