import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { bundle, VARIANTS } from '../../scripts/bench/coldStart.ts';

// The EC2 client is the heaviest package a function can hold (about 550 KiB minified): only a function
// that calls EC2 on every run may read it at a cold start; the others load it with import() when they
// act on EC2 (onCloudTrail's revoke, onCostAnomaly's idle stops) or never (onBackupFailure, which lets
// StartBackupJob say a resource is gone).
const EC2_AT_EVERY_COLD_START = new Set(['stopIdleInstances']);
const EC2_CLIENT = /node_modules\/@aws-sdk\/client-ec2\//;
// The SSM client: onAlarm starts runbooks with it; the others read only the kill switch with it, and
// only when a live run plans a mutation, which most runs (a page alone) do not.
// approveAction: an approval that may act reads the kill switch and the calendars and starts the
// runbook through SSM, and it is invoked by a person, where a cold start's milliseconds do not matter.
const SSM_AT_EVERY_COLD_START = new Set(['onAlarm', 'approveAction']);
const SSM_CLIENT = /node_modules\/@aws-sdk\/client-ssm\//;
// zod's error messages in 40-odd languages (about 250 KiB minified) are re-exported by `zod` whatever a
// schema uses; a function only ever reports in English, the locale zod registers by default.
const ZOD_LOCALE = /node_modules\/zod\/v4\/locales\/(?<locale>[^/]+)\.js$/;
// The EC2 client's schemas of every EC2 operation (552 KiB minified) when a function sends two of them.
const EC2_SCHEMAS = /node_modules\/@aws-sdk\/client-ec2\/dist-es\/schemas\//;

const out = mkdtempSync(join(tmpdir(), 'ops-cold-start-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const shipped = VARIANTS.find((v) => v.name.includes('shipped'));
if (!shipped) throw new Error('scripts/bench/coldStart.ts names no shipped variant');

/** Each function bundled once as serverless.yml ships it, for every test that reads its bundle. */
const bundles = new Map<string, ReturnType<typeof bundle>>();
const shippedBundle = (name: string): ReturnType<typeof bundle> => {
  let built = bundles.get(name);
  if (!built) {
    built = bundle(
      join(import.meta.dirname, '..', '..', 'functions', name, 'handler.ts'),
      join(out, name),
      shipped,
    );
    bundles.set(name, built);
  }
  return built;
};

describe('what a cold start loads', () => {
  it('is measured as serverless.yml ships it: one ES module per function, code-split into chunks', () => {
    // Arrange
    const esbuild = readFileSync(join(import.meta.dirname, '..', '..', 'serverless.yml'), 'utf8');
    // Assert
    expect(esbuild).toMatch(/^ {4}format: esm$/m);
    expect(esbuild).toMatch(/^ {4}splitting: true$/m);
    expect(esbuild).toMatch(/^ {4}chunkNames: chunks\/\[name\]-\[hash\]$/m);
    expect(shipped).toMatchObject({ format: 'esm', splitting: true, mainFields: ['module', 'main'] });
  });

  it.each(registry.map((f) => f.name))(
    '%s reads the EC2 and SSM clients at a cold start only if it calls them on every run',
    async (name) => {
      // Act
      const built = await shippedBundle(name);
      // Assert
      const loaded = built.loadedAtStart.flatMap((o) => Object.keys(o.inputs));
      expect(loaded.some((path) => EC2_CLIENT.test(path))).toBe(EC2_AT_EVERY_COLD_START.has(name));
      expect(loaded.some((path) => SSM_CLIENT.test(path))).toBe(SSM_AT_EVERY_COLD_START.has(name));
    },
    60_000,
  );

  it.each(registry.map((f) => f.name))(
    "%s carries zod's English messages and no other locale, as serverless.yml builds it",
    async (name) => {
      // Arrange
      const esbuild = readFileSync(join(import.meta.dirname, '..', '..', 'serverless.yml'), 'utf8');
      // Act
      const built = await shippedBundle(name);
      // Assert
      expect(esbuild).toMatch(/^ {4}plugins: plugins\/esbuildPlugins\.cjs$/m);
      const locales = built.loadedAtStart
        .flatMap((o) => Object.keys(o.inputs))
        .flatMap((path) => path.match(ZOD_LOCALE)?.groups?.locale ?? []);
      expect(locales).toEqual(['en']);
    },
    60_000,
  );

  it('stopIdleInstances reads at a cold start only the EC2 schemas of the commands it sends, as serverless.yml builds it', async () => {
    // Act
    const built = await shippedBundle('stopIdleInstances');
    // Assert
    const schemaBytes = built.loadedAtStart
      .flatMap((o) => Object.entries(o.inputs))
      .filter(([path]) => EC2_SCHEMAS.test(path))
      .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
    expect(schemaBytes).toBeGreaterThan(0);
    expect(schemaBytes).toBeLessThan(100 * 1024);
  }, 60_000);
});
