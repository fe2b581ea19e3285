import { describe, expect, it } from 'vitest';
import { parseStageConfig, stageConfigOf } from '#config/stageConfig.ts';
import { ConfigError } from '#shared/config.ts';

/** A valid organization block; each case below breaks one field of it. */
const organization = {
  id: 'o-a1b2c3d4e5',
  ous: ['ou-ab12-cdefgh34'],
  regions: ['eu-west-1'],
  homeRegion: 'eu-west-1',
  defaultMode: 'dry-run',
};
const stageWith = (org: Record<string, unknown>, dryRun = true) => ({ dryRun, organization: org });

describe('stage configuration: organization', () => {
  it('gives the example stage org an organization that members start in dry-run', () => {
    // Act
    const org = stageConfigOf('org');
    // Assert
    expect(org.organization).toMatchObject({ defaultMode: 'dry-run' });
    expect(org.organization?.ous.length).toBeGreaterThan(0);
    expect(org.organization?.regions).toContain(org.organization?.homeRegion);
    expect(org.dryRun).toBe(true);
  });

  it('leaves the single-account stages without an organization', () => {
    expect(stageConfigOf('dev').organization).toBeUndefined();
    expect(stageConfigOf('prod').organization).toBeUndefined();
  });

  it.each([
    ['an OU id of another shape', { ous: ['ou-123'] }, /organization\.ous\.0.*OU id/],
    ['an account id where an OU goes', { ous: ['123456789012'] }, /organization\.ous\.0/],
    ['no OU', { ous: [] }, /organization\.ous.*at least one OU/],
    ['an OU listed twice', { ous: ['r-ab12', 'r-ab12'] }, /organization\.ous.*twice/],
    [
      '51 OUs',
      { ous: Array.from({ length: 51 }, (_, i) => `r-ab${String(i).padStart(2, '0')}`) },
      /organization\.ous.*at most 50/,
    ],
    [
      'a region that is no region',
      { regions: ['eu-west-1', 'Europe'] },
      /organization\.regions\.1.*region name/,
    ],
    [
      '21 regions',
      { regions: Array.from({ length: 21 }, (_, i) => `eu-west-${i + 1}`) },
      /organization\.regions.*at most 20/,
    ],
    ['a home region that is no region', { homeRegion: '*' }, /organization\.homeRegion.*region name/],
    ['an organization id of another shape', { id: 'o-1' }, /organization\.id.*organization id/],
    ['an unknown mode', { defaultMode: 'on' }, /organization\.defaultMode/],
    ['an unknown key', { admin: '123456789012' }, /organization.*admin/],
    [
      'a served-accounts cache longer than five minutes',
      { accountsCacheSeconds: 301 },
      /organization\.accountsCacheSeconds.*at most 300/,
    ],
    ['a served-accounts cache of no time', { accountsCacheSeconds: 0 }, /organization\.accountsCacheSeconds/],
    [
      'a stage-wide stop ceiling above 1000',
      { maxStopsPerHour: 1001 },
      /organization\.maxStopsPerHour.*at most 1000/,
    ],
    ['a stage-wide stop ceiling of no stop', { maxStopsPerHour: 0 }, /organization\.maxStopsPerHour/],
  ])('refuses %s, naming the field', (_case, change, message) => {
    // Act
    const act = () => parseStageConfig('broken', stageWith({ ...organization, ...change }));
    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });

  it('refuses members that default to live on a dry-run stage', () => {
    // Act
    const act = () => parseStageConfig('broken', stageWith({ ...organization, defaultMode: 'live' }));
    // Assert
    expect(act).toThrow(/organization\.defaultMode: "live" on a stage with dryRun: true/);
  });

  it('keeps the served accounts for 300 s when the stage says nothing', () => {
    // Act
    const parsed = parseStageConfig('org', stageWith(organization));
    // Assert
    expect(parsed.organization?.accountsCacheSeconds).toBe(300);
  });

  it('lets a live stage default its members to live', () => {
    // Act
    const parsed = parseStageConfig('live', stageWith({ ...organization, defaultMode: 'live' }, false));
    // Assert
    expect(parsed.organization?.defaultMode).toBe('live');
  });
});
