import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';

// A registry meta-test: a function that can change AWS resources must prove, against the emulator,
// that the kill switch stops it (killSwitch.test.ts), that a CLOSED change calendar holds it back
// (changeFreeze.test.ts) and that duplicate deliveries act once (duplicates.test.ts). Those files name
// each case after its function (`it('onAlarm: ...`); this reads the names, so a new function with a
// mutating executor fails here until it has a case in each.

const ROOT = join(import.meta.dirname, '../..');
/** The function a case is about: the first word of its title, before `:` or `,`. */
const CASE_TITLE = /\bit\(\s*['"`](\w+)[:,]/g;

function functionsWithCasesIn(testFile: string): Set<string> {
  const source = readFileSync(join(ROOT, testFile), 'utf8');
  return new Set([...source.matchAll(CASE_TITLE)].map((match) => match[1] as string));
}

/** The registered functions whose spec has an executor that mutates AWS. */
async function mutatingFunctions(): Promise<string[]> {
  const names: string[] = [];
  for (const { name } of registry) {
    const spec = (await import(`#functions/${name}/spec.ts`)) as {
      executors?: Record<string, { mutates: boolean }>;
    };
    if (!spec.executors) throw new Error(`functions/${name}/spec.ts exports no executors`);
    if (Object.values(spec.executors).some((executor) => executor.mutates)) names.push(name);
  }
  return names;
}

describe('every function with a mutating executor', async () => {
  const mutating = await mutatingFunctions();

  it('is found in the registry (onAlarm starts runbooks, stopIdleInstances stops instances)', () => {
    // Assert
    expect(mutating).toEqual(expect.arrayContaining(['onAlarm', 'stopIdleInstances']));
  });

  it.each([
    ['the kill switch', 'test/emulator/killSwitch.test.ts'],
    ['duplicate deliveries', 'test/emulator/duplicates.test.ts'],
    ['a CLOSED change calendar', 'test/emulator/changeFreeze.test.ts'],
  ])('has its case for %s in %s', (_, testFile) => {
    // Arrange
    const covered = functionsWithCasesIn(testFile);
    // Act
    const missing = mutating.filter((name) => !covered.has(name));
    // Assert
    expect(missing, `functions with a mutating executor and no case in ${testFile}`).toEqual([]);
  });
});

/**
 * A function that runs other functions' mutating executors on a person's decision (approveAction: its
 * own executor, approval.decide, mutates nothing, so it is not in the list above) proves the same
 * three guards in its handler test, where its exactly-once race is ordered by a latch on mocks.
 */
describe('every function that runs an approved action', async () => {
  const approvers: string[] = [];
  for (const { name } of registry) {
    const spec = (await import(`#functions/${name}/spec.ts`)) as { executors?: Record<string, unknown> };
    if (spec.executors && 'approval.decide' in spec.executors) approvers.push(name);
  }

  it('is found in the registry (approveAction), and is not counted as mutating itself', async () => {
    // Assert
    expect(approvers).toEqual(['approveAction']);
    expect(await mutatingFunctions()).not.toContain('approveAction');
  });

  it.each([
    ['the kill switch', /it\(\s*['"`][^'"`]*kill switch/],
    ['a CLOSED change calendar', /it\(\s*['"`][^'"`]*calendar is closed/],
    ['two approvals at once', /it\(\s*['"`][^'"`]*approved twice at the same time/],
  ])('has its case for %s in test/handler/<function>.test.ts', (_, title) => {
    // Act
    const missing = approvers.filter(
      (name) => !title.test(readFileSync(join(ROOT, `test/handler/${name}.test.ts`), 'utf8')),
    );
    // Assert
    expect(missing).toEqual([]);
  });
});
