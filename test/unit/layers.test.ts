import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier a file imports, statically, as a type, re-exported or with import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g),
  ];
  return specifiers.map((m) => m[1] as string);
}

describe('layers: the runtime does not depend on the functions it runs', () => {
  it('imports nothing from functions/ anywhere in shared/', () => {
    // Arrange
    const files = sourcesUnder(join(ROOT, 'shared'));
    // Act
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((s) => s.startsWith('#functions/') || /(^|\/)functions\//.test(s))
        .map((s) => `${relative(ROOT, file)} imports ${s}`),
    );
    // Assert
    expect(files.length).toBeGreaterThan(10);
    expect(offending).toEqual([]);
  });
});

describe("layers: a running function reads its own settings, not the whole stage's", () => {
  /** The names a file imports from config/stageConfig.ts as values (what a bundle would load). */
  function valueImportsOfStageConfig(file: string): string[] {
    const text = readFileSync(file, 'utf8');
    return [
      ...text.matchAll(
        /(?:^|\n)\s*import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]#config\/stageConfig\.ts['"]/g,
      ),
    ]
      .filter((m) => m[1] === undefined)
      .flatMap((m) => (m[2] ?? '').split(',').map((name) => name.trim()))
      .filter((name) => name !== '' && !name.startsWith('type '));
  }

  it('imports config/stageConfig.ts in shared/ for its types only', () => {
    // Arrange
    const files = sourcesUnder(join(ROOT, 'shared'));
    // Act
    const offending = files.flatMap((file) =>
      valueImportsOfStageConfig(file).map((name) => `${relative(ROOT, file)} imports ${name}`),
    );
    // Assert
    expect(offending).toEqual([]);
  });
});

describe('layers: data flows parse, gather, plan in one direction', () => {
  const gathers = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(ROOT, 'functions', e.name, 'gather.ts'))
    .filter((file) => {
      try {
        return readFileSync(file).length > 0;
      } catch {
        return false;
      }
    });

  it.each(gathers.map((file) => [relative(ROOT, file), file]))('%s imports no plan', (_name, file) => {
    // Act
    const plans = importsOf(file).filter((s) => /(^|\/)plan\.ts$/.test(s));
    // Assert
    expect(plans).toEqual([]);
  });
});
