import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESERVED_CONCURRENCY_CAP, registry } from '#functions/index.ts';
import { demoModeLine } from '../../scripts/demo/mode.ts';
import { ROOT } from '../../tools/local/packaged.ts';

// What the README and docs/ promise an operator, held to the code: a figure or a command that drifts
// from it fails here.
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const readme = read('README.md');
const deployDoc = read('docs/DEPLOY.md');
/** Every markdown file under docs/, its subfolders (docs/functions/) included. */
const docsUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? docsUnder(join(dir, e.name))
      : e.name.endsWith('.md')
        ? [relative(ROOT, join(ROOT, dir, e.name))]
        : [],
  );
const operatorDocs = ['README.md', ...docsUnder('docs')];

describe('the Lambda concurrency docs/DEPLOY.md asks for', () => {
  it('is the sum of the registry reservations, plus the 100 Lambda keeps unreserved', () => {
    // Arrange
    const reserved = registry.reduce((sum, e) => sum + e.deployment.reservedConcurrency, 0);
    // Act
    const said = deployDoc.match(/the functions reserve (\d+) concurrent executions/)?.[1];
    const quota = deployDoc.match(/unreserved concurrency must be at least (\d+)/)?.[1];
    const cap = deployDoc.match(/`RESERVED_CONCURRENCY_CAP`,\s+(\d+)\)/)?.[1];
    // Assert
    expect(Number(said)).toBe(reserved);
    expect(Number(quota)).toBe(reserved + 100);
    expect(Number(cap)).toBe(RESERVED_CONCURRENCY_CAP);
  });
});

describe('the sls commands of the README and docs/', () => {
  /** Every sls command that reaches AWS (not `package`, not `invoke local`), continuation lines joined. */
  function awsCommands(text: string): string[] {
    const joined = text.replace(/\\\n\s*/g, ' ');
    return [
      ...joined.matchAll(/npx sls (?:deploy|remove|invoke(?! local)|info|logs|rollback)\b[^\n`]*/g),
    ].map((m) => m[0]);
  }

  it('all name one region, so a remove or an invoke reaches the stack the deploy made', () => {
    // Arrange
    const regions = new Map<string, string[]>();
    // Act
    for (const path of operatorDocs) {
      const text = read(path);
      const shellRegion = text.match(/^REGION=(\S+)/m)?.[1] ?? text.match(/ REGION=(\S+)/)?.[1];
      for (const command of awsCommands(text)) {
        const named = command.match(/--region (\S+)/)?.[1] ?? 'none';
        const region = named === '$REGION' ? (shellRegion ?? '$REGION unset') : named;
        regions.set(region, [...(regions.get(region) ?? []), `${path}: ${command}`]);
      }
    }
    // Assert
    expect([...regions.values()].flat().length).toBeGreaterThan(5);
    expect([...regions.keys()], JSON.stringify(Object.fromEntries(regions), null, 1)).toEqual(['eu-west-1']);
  });
});

describe('npm run demo, as the README describes it', () => {
  const demoLine = readme.split('\n').find((l) => l.includes('npm run demo'));

  it('says it runs live by default, as the demo prints, and how to run it dry as dev is deployed', () => {
    // Act
    const printed = demoModeLine('dev', undefined);
    // Assert
    expect(printed).toMatch(/^stage dev, run live /);
    expect(demoLine).toContain('live');
    expect(demoLine).toContain('DRY_RUN=true npm run demo');
    expect(demoModeLine('dev', 'true')).toMatch(/^stage dev, run dry-run /);
  });
});
