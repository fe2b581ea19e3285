import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/local/packaged.ts';

// Every relative link of README.md and docs/ leads somewhere: moving a section or a file breaks no link a
// reader follows. A link to a heading of a markdown file must name a heading it has (GitHub's anchors).

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

function anchorsOf(text: string): Set<string> {
  const withoutCode = text.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] as string)));
}

/** Relative links `[text](target)`, outside code blocks and spans. */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((target) => !/^[a-z]+:/i.test(target));
}

const documents = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];

describe('the links of README.md and docs/', () => {
  it.each(documents.map((d) => relative(ROOT, d)))(
    '%s links only to files and headings that exist',
    (doc) => {
      // Arrange
      const path = join(ROOT, doc);
      // Act
      const broken = relativeLinks(readFileSync(path, 'utf8')).filter((link) => {
        const [file = '', anchor] = link.split('#');
        const target = file === '' ? path : join(dirname(path), decodeURIComponent(file));
        if (!existsSync(target)) return true;
        if (anchor === undefined || !target.endsWith('.md')) return false;
        return !anchorsOf(readFileSync(target, 'utf8')).has(anchor);
      });
      // Assert
      expect(broken).toEqual([]);
    },
  );
});
