import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { registry } from '#functions/index.ts';

// Issue 20, approvals of remediations and backup retries: the shared approval record is granted to a
// role only on a stage where one of its actions waits for a person.
const grants = (name: string, raw: Record<string, unknown>) =>
  registry
    .find((e) => e.name === name)
    ?.deployment.sharedStateRecords?.(parseStageConfig('x', { dryRun: false, ...raw }))
    .map((g) => [g.kind, g.actions]) ?? [];

describe('approval grants', () => {
  const detection = 'security-group-open-to-world';

  it("grant onCloudTrail's role the approval record only when a remediation it runs waits for approval", () => {
    // Assert
    expect(
      grants('onCloudTrail', { cloudTrail: { detections: { [detection]: { remediate: true } } } }),
    ).toEqual([]);
    expect(
      grants('onCloudTrail', {
        cloudTrail: { detections: { [detection]: { remediate: true, approval: 'required' } } },
      }),
    ).toEqual([['approval', ['dynamodb:PutItem']]]);
    // Approval without the remediation turned on: nothing is ever recorded.
    expect(
      grants('onCloudTrail', { cloudTrail: { detections: { [detection]: { approval: 'required' } } } }),
    ).toEqual([]);
  });

  it("grant onBackupFailure's role the approval record only when its retry waits for approval", () => {
    // Assert
    expect(grants('onBackupFailure', { backupFailure: { retry: true } })).toEqual([]);
    expect(grants('onBackupFailure', { backupFailure: { retry: true, approval: 'required' } })).toEqual([
      ['approval', ['dynamodb:PutItem']],
    ]);
  });
});
