import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import {
  blockNames,
  documentedBlock,
  GENERATED_DOCS,
  generatedBlocks,
  ROOT,
  withGenerated,
} from '../../scripts/docs/generate.ts';

// The reference parts of docs/ are generated from the registry and the configuration schema (npm run docs):
// a function, rule, fixture, detection or setting added without regenerating fails here, so a clean clone
// is left unchanged by `npm run docs`.
const blocks = await generatedBlocks();
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('the generated blocks of docs/', () => {
  it.each(Object.entries(GENERATED_DOCS))(
    '%s holds its blocks as npm run docs writes them',
    (path, names) => {
      // Arrange
      const doc = read(path);
      // Act
      const regenerated = withGenerated(doc, names, blocks);
      // Assert
      for (const name of names) {
        expect(documentedBlock(doc, name), `${path}: block ${name} is stale; run npm run docs`).toBe(
          blocks[name],
        );
      }
      expect(regenerated).toBe(doc);
    },
  );

  it('has no block in a document that npm run docs would not rewrite', () => {
    // Act
    const unknown = Object.entries(GENERATED_DOCS).flatMap(([path, names]) =>
      blockNames(read(path))
        .filter((n) => !names.includes(n))
        .map((n) => `${path}: ${n}`),
    );
    // Assert
    expect(unknown).toEqual([]);
  });

  it('documents every registered function in a page of its own, with its trigger, settings and IAM', () => {
    // Assert
    for (const { name } of registry) {
      expect(GENERATED_DOCS[`docs/functions/${name}.md`]).toEqual(
        expect.arrayContaining([`trigger:${name}`, `settings:${name}`, `iam:${name}`]),
      );
    }
  });

  it("lists in each function's settings block every key its settings declare, read from the registry", () => {
    // Assert
    for (const { name, settings } of registry) {
      const block = blocks[`settings:${name}`] ?? '';
      for (const key of Object.keys(settings.shape)) {
        expect(block, `settings:${name} has no row of ${key}`).toMatch(
          new RegExp(`^\\| \`${key}[.\`\\[]`, 'm'),
        );
      }
    }
  });

  it("keeps an indented block's closing marker where it was: a block inside a list item stays in it", () => {
    // Arrange
    const doc = '- item:\n  <!-- generated:rules -->\n  old\n  <!-- /generated:rules -->\n';
    // Act
    const once = withGenerated(doc, ['rules'], { rules: '  new' });
    // Assert
    expect(once).toBe('- item:\n  <!-- generated:rules -->\n  new\n  <!-- /generated:rules -->\n');
    expect(withGenerated(once, ['rules'], { rules: '  new' })).toBe(once);
  });

  it('fills a block whose markers were just added, and leaves the text around it alone', () => {
    // Arrange
    const doc = 'before\n<!-- generated:rules -->\n<!-- /generated:rules -->\nafter\n';
    // Act
    const filled = withGenerated(doc, ['rules'], blocks);
    // Assert
    expect(filled).toBe(
      `before\n<!-- generated:rules -->\n${blocks.rules}\n<!-- /generated:rules -->\nafter\n`,
    );
    expect(withGenerated(filled, ['rules'], blocks)).toBe(filled);
  });

  it('refuses to rewrite a document whose markers are missing, naming the block', () => {
    // Act, Assert
    expect(() => withGenerated('# no markers\n', ['rules'], blocks)).toThrow(/rules/);
  });
});
