import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';

// A Lambda bundle holds its own function and the runtime, nothing of another function: each function
// reads only its own stage settings, and the whole stage (every function's settings, onCloudTrail's
// detection list among them) is validated by config/stageConfig.ts at package and test time, never
// loaded by a cold start. esbuild's metafile lists every module a bundle holds, the chunks behind
// import() included; packages stay external, since only the repository's own modules are in question.

const ROOT = join(import.meta.dirname, '..', '..');

/** The repository modules one function's bundle holds, as esbuild names them (relative to the root). */
async function bundledModules(name: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
    outdir: join(ROOT, '.esbuild', 'bundle-inputs', name),
    write: false,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('what a function bundle holds', () => {
  it.each(registry.map((f) => f.name))(
    '%s holds no other function folder and not the whole stage configuration',
    async (name) => {
      // Act
      const modules = await bundledModules(name);
      // Assert
      expect(modules).toContain(`functions/${name}/handler.ts`);
      const foreign = modules.filter(
        (m) => m.startsWith('functions/') && !m.startsWith(`functions/${name}/`),
      );
      expect(foreign, `${name}'s bundle holds other functions' modules`).toEqual([]);
      expect(modules).not.toContain('config/stageConfig.ts');
    },
  );
});
