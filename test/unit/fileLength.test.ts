import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 17: no source or test file over 450 lines. A longer file is split by topic into files named
// after what they prove (shared builders go to test/support/), so each stays readable in one sitting.

const ROOT = join(import.meta.dirname, '../..');
const MAX_LINES = 450;
const FOLDERS = ['functions', 'shared', 'config', 'deploy', 'plugins', 'scripts', 'tools', 'test'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|cts|mts|cjs|mjs|js)$/.test(e.name) ? [path] : [];
  });
}

/** Lines as `wc -l` counts them: a final newline ends the last line, it does not start another. */
function lineCount(path: string): number {
  const text = readFileSync(join(ROOT, path), 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('the length of source and test files', () => {
  const files = FOLDERS.flatMap(sourceFiles);

  it(`finds none over ${MAX_LINES} lines in ${FOLDERS.join(', ')}`, () => {
    // Act
    const tooLong = files
      .map((file) => ({ file, lines: lineCount(file) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    // Assert
    expect(tooLong).toEqual([]);
  });

  it('reads the source and the tests of every folder it guards', () => {
    // Assert: the walk is not empty, so the check above can fail.
    for (const folder of FOLDERS) {
      expect(
        files.some((f) => f.startsWith(`${folder}/`)),
        folder,
      ).toBe(true);
    }
    expect(files).toContain('test/unit/fileLength.test.ts');
    expect(files).toContain('plugins/ops-config.cjs');
  });
});
