import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { runbookCooldownMinutes } from '#shared/config.ts';
import { restartRule } from '../support/alarmPlan.ts';

describe('runbook rules configuration', () => {
  it('rejects a target that names no runbook parameter', () => {
    // Act
    const error = (() => {
      try {
        parseStageConfig('t', {
          dryRun: true,
          alarmRules: [
            { ...restartRule, runbook: { ...restartRule.runbook, target: { parameter: 'Nope' } } },
          ],
        });
      } catch (e) {
        return e as Error;
      }
    })();
    // Assert
    expect(error?.message).toContain('alarmRules.0.runbook.target.parameter');
  });

  it('rejects rules whose scopes use different tag keys, since one IAM condition guards them', () => {
    // Arrange
    const withTag = (name: string, key: string) => ({
      ...restartRule,
      name,
      runbook: { ...restartRule.runbook, scope: { tag: { key, value: 'true' } } },
    });
    // Act
    const parse = () =>
      parseStageConfig('t', { dryRun: true, alarmRules: [withTag('a', 'x'), withTag('b', 'y')] });
    // Assert
    expect(parse).toThrow(/different runbook scope tag keys \(x, y\)/);
  });

  it('defaults to one start per incident within the paging window', () => {
    // Act
    const cfg = parseStageConfig('t', { dryRun: true, paging: { suppressionWindowMinutes: 45 } });
    // Assert
    expect(cfg.runbooks.maxStartsPerIncident).toBe(1);
    expect(runbookCooldownMinutes(cfg)).toBe(45);
  });
});
