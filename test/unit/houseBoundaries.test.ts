import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// A function's folder is that function's own: what two functions share (the idle stopper, the page
// executor, the state records) lives in shared/, so changing one function never reaches into another.
// This reads the source imports (static, dynamic and type-only), so a new cross-folder import fails here.

const ROOT = join(import.meta.dirname, '../..');

/** The package.json `imports` aliases, as the source uses them. */
const ALIASES: Record<string, string> = {
  '#shared/': 'shared/',
  '#functions/': 'functions/',
  '#config/': 'config/',
};

/** `from '…'`, `import '…'` and `import('…')`, including `typeof import('…')` and `export … from '…'`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|cjs|mjs|js)$/.test(e.name) ? [path] : [];
  });
}

/** The repository path an import names, or undefined for a package. */
function importedPath(file: string, specifier: string): string | undefined {
  for (const [alias, dir] of Object.entries(ALIASES)) {
    if (specifier.startsWith(alias)) return dir + specifier.slice(alias.length);
  }
  if (!specifier.startsWith('.')) return undefined;
  return relative(ROOT, resolve(ROOT, dirname(file), specifier))
    .split(sep)
    .join('/');
}

interface Import {
  file: string;
  imports: string;
}

function importsUnder(dir: string): Import[] {
  return sourceFiles(dir).flatMap((file) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(SPECIFIER)].flatMap((m) => {
      const imports = importedPath(file, m[1] as string);
      return imports === undefined ? [] : [{ file, imports }];
    }),
  );
}

/** The function whose folder a path is in (`functions/<name>/…`); not the registry (functions/index.ts). */
const functionOf = (path: string): string | undefined => /^functions\/([^/]+)\//.exec(path)?.[1];

describe('the house boundaries', () => {
  it("no function imports another function's folder: what two functions share lives in shared/", () => {
    // Arrange
    const imports = importsUnder('functions');
    // Act
    const crossing = imports
      .filter(({ file, imports: to }) => {
        const from = functionOf(file);
        const target = functionOf(to);
        return from !== undefined && target !== undefined && from !== target;
      })
      .map(({ file, imports: to }) => `${file} imports ${to}`);
    // Assert
    // The scan reads every function's imports (each handler imports its own spec), so an empty list is a finding.
    const handlers = sourceFiles('functions').filter((f) => f.endsWith('/handler.ts'));
    expect(handlers.length).toBeGreaterThan(0);
    for (const handler of handlers) {
      expect(imports).toContainEqual({ file: handler, imports: handler.replace(/handler\.ts$/, 'spec.ts') });
    }
    expect(crossing).toEqual([]);
  });
});
