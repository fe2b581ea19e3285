import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function tsFilesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The repository paths a file imports relatively (static and dynamic imports). */
function relativeImports(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  return [...source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    relative(ROOT, resolve(ROOT, dirname(file), m[1] as string)),
  );
}

describe('the local harness', () => {
  it('is what scripts and tools import, never the test suite (test/)', () => {
    // Arrange
    const files = [...tsFilesUnder('scripts'), ...tsFilesUnder('tools')];
    // Act
    const intoTests = files.flatMap((file) =>
      relativeImports(file)
        .filter((path) => path.startsWith('test/'))
        .map((path) => `${file} -> ${path}`),
    );
    // Assert
    expect(files.length).toBeGreaterThan(5);
    expect(intoTests).toEqual([]);
  });
});
