import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionEntries, functionEntry } from '#deploy/stack/index.ts';
import { PATTERN_LIMIT, ruleSuffixes, withStackRoleNames } from '#deploy/stack/patterns.ts';
import { type Deployment, type RegistryEntry, registry } from '#functions/index.ts';

const ROOT = process.cwd();
const target = { stage: 'dev', region: 'us-east-1', root: ROOT };

/** A repository holding one pattern file, for a function whose trigger names it. */
function withPatternFile(patterns: unknown): { root: string; entry: RegistryEntry } {
  const root = mkdtempSync(join(tmpdir(), 'ops-autopilot-patterns-'));
  writeFileSync(join(root, 'pattern.json'), JSON.stringify(patterns));
  const base = registry.find((e) => e.name === 'onAlarm');
  if (!base) throw new Error('no onAlarm in the registry');
  const deployment: Deployment = {
    ...base.deployment,
    trigger: { rule: 'on-thing', patternFile: 'pattern.json' },
  };
  return { root, entry: { ...base, name: 'onThing', deployment } };
}

describe("a function's rules", () => {
  it("put this stack's exact role names where a pattern excludes them, never a name prefix", () => {
    // Arrange
    const { root, entry } = withPatternFile({
      source: ['aws.iam'],
      detail: {
        userIdentity: {
          sessionContext: { sessionIssuer: { userName: [{ 'anything-but': { stackRoleNames: true } }] } },
        },
      },
    });
    // Act
    const rule = functionEntry({ ...target, root }, registry, entry) as {
      events: { eventBridge: { name: string; pattern: unknown } }[];
    };
    // Assert
    const excluded = JSON.stringify(rule.events[0]?.eventBridge.pattern);
    expect(excluded).toContain('"anything-but":["ops-autopilot-dev-on-alarm-us-east-1"');
    expect(excluded).not.toContain('stackRoleNames');
    expect(rule.events[0]?.eventBridge.name).toBe('ops-autopilot-dev-on-thing');
  });

  it('make one rule per pattern of a pattern file holding several: <rule>, <rule>-2', () => {
    // Arrange
    const { root, entry } = withPatternFile([{ source: ['aws.a'] }, { source: ['aws.b'] }]);
    // Act
    const suffixes = ruleSuffixes(entry.deployment, root);
    // Assert
    expect(suffixes).toEqual(['on-thing', 'on-thing-2']);
  });

  it('refuse a pattern longer than EventBridge takes, naming the rule', () => {
    // Arrange
    const { root, entry } = withPatternFile({
      source: ['aws.ec2'],
      detail: { x: ['y'.repeat(PATTERN_LIMIT)] },
    });
    // Act
    const derive = () => functionEntry({ ...target, root }, registry, entry);
    // Assert
    expect(derive).toThrow(
      /rule ops-autopilot-dev-on-thing's pattern is \d+ characters .* EventBridge takes 2048/,
    );
  });

  it('leave a pattern without the marker as it is', () => {
    // Arrange
    const pattern = { source: ['aws.ec2'], detail: { state: [{ 'anything-but': ['running'] }] } };
    // Act
    const resolved = withStackRoleNames(pattern, ['ops-autopilot-dev-x-us-east-1']);
    // Assert
    expect(resolved).toEqual(pattern);
  });
});

describe("a function's serverless.yml entry", () => {
  it("runs on the schedule its stage param holds, and zips no other function's chunks", () => {
    // Act
    const entries = functionEntries(target, registry, { idleStopSchedule: 'rate(2 hours)' });
    // Assert
    const idle = entries.stopIdleInstances as {
      events: { eventBridge: { name: string; schedule?: string } }[];
      package: { patterns: string[] };
      role: string;
    };
    expect(idle.events).toEqual([
      expect.objectContaining({
        eventBridge: expect.objectContaining({
          schedule: 'rate(2 hours)',
          name: 'ops-autopilot-dev-idle-scan',
        }),
      }),
    ]);
    expect(idle.package.patterns).toContain('!functions/onAlarm/**');
    expect(idle.package.patterns).not.toContain('!functions/stopIdleInstances/**');
    expect(idle.role).toBe('StopIdleInstancesRole');
  });

  it('sends what fails after its retries to the failure queue, and what its rule cannot deliver to the events DLQ', () => {
    // Act
    const entries = functionEntries(target, registry, { idleStopSchedule: 'rate(1 hour)' });
    // Assert
    for (const [name, entry] of Object.entries(entries)) {
      const e = entry as {
        destinations: unknown;
        events: { eventBridge: { deadLetterQueueArn: unknown } }[];
      };
      expect(e.destinations, name).toEqual({
        onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } },
      });
      for (const { eventBridge } of e.events) {
        expect(eventBridge.deadLetterQueueArn, name).toEqual({
          'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'],
        });
      }
    }
  });
});
