import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EventPattern } from '#functions/index.ts';
import { deployment } from '#functions/onCloudTrail/deployment.ts';
import type { Detection } from '#functions/onCloudTrail/detections/declaration.ts';
import { DEFAULT_SCANNER_USER_AGENTS } from '#functions/onCloudTrail/detections/readOnly.ts';
import { REMEDIATIONS } from '#functions/onCloudTrail/detections/remediations.ts';
import { DETECTIONS, readOnlyRulePattern } from '#functions/onCloudTrail/detections.ts';
import { CATALOGUE } from '#functions/onCloudTrail/settings.ts';
import { executors, remediationExecutors } from '#functions/onCloudTrail/spec.ts';

/**
 * Every detection a domain file declares is reachable: a declaration that detections.ts does not
 * concatenate would be a detection that never runs, never deploys its calls and never shows in the
 * catalogue. The declarations are found by reading the domain files' exports, not detections.ts.
 */

const DECLARING_DIRECTORIES = ['functions/onCloudTrail/detections', 'functions/onCloudTrail/sigma'];

const isDetection = (v: unknown): v is Detection =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Partial<Detection>).name === 'string' &&
  typeof (v as Partial<Detection>).match === 'function' &&
  typeof (v as Partial<Detection>).watches === 'object';

/** Every detection object exported by a domain file, alone or in a list, with the file that exports it. */
async function declaredDetections(): Promise<{ file: string; detection: Detection }[]> {
  const found = new Map<Detection, string>();
  for (const directory of DECLARING_DIRECTORIES) {
    const files = readdirSync(join(process.cwd(), directory)).filter((f) => f.endsWith('.ts'));
    for (const file of files) {
      const exports: Record<string, unknown> = await import(
        pathToFileURL(join(process.cwd(), directory, file)).href
      );
      for (const value of Object.values(exports)) {
        for (const candidate of Array.isArray(value) ? value : [value]) {
          if (isDetection(candidate) && !found.has(candidate)) found.set(candidate, `${directory}/${file}`);
        }
      }
    }
  }
  return [...found].map(([detection, file]) => ({ file, detection }));
}

const declared = await declaredDetections();
const rows = declared.map(({ file, detection }) => [detection.name, file, detection] as const);

/** The event names a pattern's `detail` lists, and its `$or` branches as written. */
function deliveredBy(patterns: readonly EventPattern[]): { calls: Set<string>; branches: string[] } {
  const calls = new Set<string>();
  const branches: string[] = [];
  const visit = (detail: Record<string, unknown>) => {
    const names = detail.eventName;
    if (Array.isArray(names)) for (const n of names) if (typeof n === 'string') calls.add(n);
    const or = detail.$or;
    if (Array.isArray(or)) {
      for (const branch of or as Record<string, unknown>[]) {
        branches.push(JSON.stringify(branch));
        visit(branch);
      }
    }
  };
  for (const p of patterns) visit((p as { detail: Record<string, unknown> }).detail);
  return { calls, branches };
}

const trigger = deployment.trigger;
const mainRules = deliveredBy(trigger !== undefined && 'patterns' in trigger ? trigger.patterns : []);
const readOnlyRule = deliveredBy([readOnlyRulePattern(DEFAULT_SCANNER_USER_AGENTS)]);

describe('the onCloudTrail catalogue reaches every declared detection', () => {
  it('finds the declarations of every domain file', () => {
    // Assert: a glob that found nothing would make every check below vacuous.
    expect(new Set(declared.map((d) => d.file)).size).toBeGreaterThanOrEqual(15);
    expect(declared.length).toBeGreaterThanOrEqual(DETECTIONS.length);
  });

  it('no two declared detections share a name', () => {
    // Act
    const names = declared.map((d) => d.detection.name);
    const repeated = names.filter((n, i) => names.indexOf(n) !== i);
    // Assert
    expect(repeated).toEqual([]);
    expect(new Set(DETECTIONS.map((d) => d.name)).size).toBe(DETECTIONS.length);
  });

  it.each(rows)('%s (%s) is tried by detect and listed in the catalogue', (name, _file, declaration) => {
    // Assert: the very declaration, not another of the same name.
    expect(DETECTIONS.filter((d) => d === declaration)).toHaveLength(1);
    expect(CATALOGUE[name as keyof typeof CATALOGUE]).toMatchObject({
      severity: declaration.severity,
      action: declaration.action,
      describes: declaration.describes,
    });
  });

  it.each(rows)('%s (%s) has every call it watches delivered by its rule', (_name, _file, declaration) => {
    // Arrange
    const watches = declaration.watches;
    // Act
    const missing =
      'calls' in watches
        ? watches.calls.filter((c) => !(watches.readOnly ? readOnlyRule : mainRules).calls.has(c))
        : mainRules.branches.includes(JSON.stringify(watches.detail))
          ? []
          : [JSON.stringify(watches.detail)];
    // Assert
    expect(missing).toEqual([]);
  });

  it.each(rows.filter(([, , d]) => d.remediations !== undefined))(
    '%s (%s) has an executor for each remediation it declares',
    (_name, _file, declaration) => {
      for (const kind of declaration.remediations ?? []) {
        // Act
        const executor = remediationExecutors[kind];
        // Assert
        expect(executor).toBeDefined();
        expect(executor).toBe(executors[REMEDIATIONS[kind].intentKind]);
        expect(deployment.executors?.[REMEDIATIONS[kind].intentKind]).toBeDefined();
      }
    },
  );
});
