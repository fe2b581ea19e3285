import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import setup from '../support/runScratch.ts';

const saved = {
  dir: process.env.OPS_TEST_RUN_TMPDIR,
  owner: process.env.OPS_TEST_RUN_TMPDIR_OWNER,
};
const put = (key: string, value: string | undefined) => {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
};
afterEach(() => {
  put('OPS_TEST_RUN_TMPDIR', saved.dir);
  put('OPS_TEST_RUN_TMPDIR_OWNER', saved.owner);
});

describe("the test run's temporary folder", () => {
  it('is one of its own, where the files and commands of the run put their scratch files', () => {
    // Assert
    expect(process.env.OPS_TEST_RUN_TMPDIR).toBeDefined();
    expect(tmpdir()).toBe(process.env.OPS_TEST_RUN_TMPDIR);
    expect(basename(tmpdir())).toMatch(/^ops-autopilot-test-run-/);
  });

  it('is removed at the end by the run that made it, and left to it by a run started inside it', () => {
    // Arrange
    const made = mkdtempSync(join(tmpdir(), 'scratch-'));
    const inherited = mkdtempSync(join(tmpdir(), 'scratch-'));
    try {
      // Act
      process.env.OPS_TEST_RUN_TMPDIR = inherited;
      process.env.OPS_TEST_RUN_TMPDIR_OWNER = String(process.pid + 1);
      setup()();
      process.env.OPS_TEST_RUN_TMPDIR = made;
      process.env.OPS_TEST_RUN_TMPDIR_OWNER = String(process.pid);
      setup()();
      // Assert
      expect(existsSync(inherited)).toBe(true);
      expect(existsSync(made)).toBe(false);
    } finally {
      rmSync(inherited, { recursive: true, force: true });
      rmSync(made, { recursive: true, force: true });
    }
  });
});
