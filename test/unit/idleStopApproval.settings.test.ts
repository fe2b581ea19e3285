import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { registry } from '#functions/index.ts';

// Issue 20, approvals for idle stops: `idleStop.approval` asks a person before the idle stopper stops
// anything (the scan's stops and onCostAnomaly's), off by default, and brings the grant to record it.
const stopIdle = { enabled: true, minImpactDollars: 100 };

describe('idleStop.approval', () => {
  it('is off by default', () => {
    // Act
    const stage = parseStageConfig('x', { dryRun: false });
    // Assert
    expect(stage.idleStop.approval).toBeUndefined();
  });

  it("is refused when it is anything but 'required', naming the field", () => {
    // Assert
    expect(() => parseStageConfig('x', { dryRun: false, idleStop: { approval: 'yes' as never } })).toThrow(
      /idleStop\.approval/,
    );
  });

  it.each([
    ['stopIdleInstances', {}],
    ['onCostAnomaly', { costAnomaly: { stopIdle } }],
  ])("grants %s's role the shared approval record only when idle stops wait for approval", (name, extra) => {
    // Arrange
    const entry = registry.find((e) => e.name === name);
    const without = parseStageConfig('x', { dryRun: false, ...extra });
    const withApproval = parseStageConfig('x', {
      dryRun: false,
      ...extra,
      idleStop: { approval: 'required' },
    });
    // Act
    const kinds = (stage: typeof without) => entry?.deployment.sharedStateRecords?.(stage).map((g) => g.kind);
    // Assert
    expect(kinds(without)).not.toContain('approval');
    expect(kinds(withApproval)).toContain('approval');
  });
});
