import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, '.bench', 'coldstart');

export interface BenchFunction {
  name: string;
  entry: string;
  fixture: string;
}

/** Every function's budget: its cold start at most half the all-in bundle's, measured in the same rounds. */
export const COLD_START_BUDGET = 0.5;
/** Fewer rounds than this make the median a coin toss on a loaded machine. */
export const MIN_COLD_START_RUNS = 7;

export interface Variant {
  name: string;
  format: 'esm' | 'cjs';
  mainFields: string[];
  treeShaking: boolean;
  /** Code splitting (ESM only): code reached only through import() goes to chunks loaded when needed. */
  splitting?: boolean;
  /** serverless.yml's esbuild plugins (plugins/esbuildPlugins.cjs): zod's English locale alone. */
  shippedPlugins?: boolean;
}

/**
 * What serverless.yml ships (ESM, the SDK's ES builds first, code-split), and the alternatives it was
 * chosen over.
 */
export const VARIANTS: Variant[] = (
  [
    {
      name: 'esm, module first, split (shipped)',
      format: 'esm',
      mainFields: ['module', 'main'],
      treeShaking: true,
      splitting: true,
    },
    { name: 'esm, module first, one file', format: 'esm', mainFields: ['module', 'main'], treeShaking: true },
    { name: 'esm, main first', format: 'esm', mainFields: ['main', 'module'], treeShaking: true },
    { name: 'cjs, module first', format: 'cjs', mainFields: ['module', 'main'], treeShaking: true },
    {
      name: 'cjs, main first (esbuild default)',
      format: 'cjs',
      mainFields: ['main', 'module'],
      treeShaking: true,
    },
  ] satisfies Variant[]
)
  // Every alternative with serverless.yml's plugins too: the table compares formats, not plugins.
  .map((v): Variant => ({ ...v, shippedPlugins: true }));

const SHIPPED_PLUGINS = createRequire(import.meta.url)('../../plugins/esbuildPlugins.cjs') as Plugin[];

const ESM_BANNER =
  "import { createRequire as __opsCreateRequire } from 'node:module'; const require = __opsCreateRequire(import.meta.url);";

/**
 * Bundles one entry as a variant. A split build writes `handler.mjs` and its chunks into a folder, as
 * serverless-esbuild does; its size and heaviest packages count only what a cold start loads (the entry
 * and the chunks it imports statically), not the chunks behind import().
 */
export async function bundle(
  entry: string,
  out: string,
  v: Variant,
  extra: Partial<BuildOptions> = {},
): Promise<{
  path: string;
  bytes: number;
  heaviest: string[];
  loadedAtStart: Metafile['outputs'][string][];
}> {
  const layout: BuildOptions = v.splitting
    ? {
        outdir: out,
        splitting: true,
        entryNames: 'handler',
        chunkNames: 'chunks/[name]-[hash]',
        outExtension: { '.js': '.mjs' },
      }
    : { outfile: out };
  const result = await build({
    entryPoints: [entry],
    ...layout,
    bundle: true,
    minify: true,
    keepNames: true,
    sourcemap: false,
    platform: 'node',
    target: 'node22',
    format: v.format,
    mainFields: v.mainFields,
    treeShaking: v.treeShaking,
    logLevel: 'silent',
    metafile: true,
    ...(v.format === 'esm' ? { banner: { js: ESM_BANNER } } : {}),
    ...(v.shippedPlugins ? { plugins: SHIPPED_PLUGINS } : {}),
    ...extra,
  });
  const path = v.splitting ? join(out, 'handler.mjs') : out;
  const loadedAtStart = staticallyLoaded(result.metafile ?? { inputs: {}, outputs: {} }, path);
  return {
    path,
    bytes: v.splitting ? loadedAtStart.reduce((n, o) => n + o.bytes, 0) : statSync(out).size,
    heaviest: heaviestPackages(loadedAtStart),
    loadedAtStart,
  };
}

/** The outputs a cold start reads: the entry and, transitively, the chunks it imports statically. */
function staticallyLoaded(metafile: Metafile, entryPath: string): Metafile['outputs'][string][] {
  const outputs = metafile.outputs;
  const byAbsolute = new Map(Object.keys(outputs).map((k) => [resolve(k), k]));
  const seen = new Set<string>();
  const queue = [byAbsolute.get(resolve(entryPath))].filter((k): k is string => k !== undefined);
  while (queue.length > 0) {
    const key = queue.pop() as string;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const imported of outputs[key]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external && outputs[imported.path]) {
        queue.push(imported.path);
      }
    }
  }
  return [...seen].flatMap((k) => (outputs[k] ? [outputs[k]] : []));
}

/** The packages that weigh most in a bundle (bytes of output per package), from esbuild's metafile. */
function heaviestPackages(outputs: Metafile['outputs'][string][], count = 6): string[] {
  const byPackage = new Map<string, number>();
  for (const output of outputs) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = match?.[1] ?? '(this repository)';
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(0)}`);
}

/**
 * The all-in baseline: the same handler plus every package a function could pull in (logger, tracer,
 * metrics, middy, SSM, EC2 and SNS clients), re-exported so nothing is shaken out.
 */
function allInEntry(handlerEntry: string): string {
  const file = join(OUT, 'all-in-entry.ts');
  writeFileSync(
    file,
    [
      `export { handler } from '${handlerEntry}';`,
      "export * as logger from '@aws-lambda-powertools/logger';",
      "export * as tracer from '@aws-lambda-powertools/tracer';",
      "export * as metrics from '@aws-lambda-powertools/metrics';",
      "export * as middy from '@middy/core';",
      "export * as ssm from '@aws-sdk/client-ssm';",
      "export * as ec2 from '@aws-sdk/client-ec2';",
      "export * as sns from '@aws-sdk/client-sns';",
      '',
    ].join('\n'),
  );
  return file;
}

export interface ColdStartRow {
  fn: string;
  variant: string;
  bytes: number;
  /** The heaviest packages in the bundle, `name KiB`. */
  heaviest: string[];
  importMs: number;
  invokeMs: number;
  totalMs: number;
  rssMb: number;
  failures: number;
  /** Per round, import + first invocation divided by the all-in bundle's in the same round. */
  ratios: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

interface Sample {
  importMs: number;
  invokeMs: number;
  rssMb: number;
  ok: boolean;
}

async function sample(bundlePath: string, fixture: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  const child = join(import.meta.dirname, 'coldstart-child.mjs');
  const { stdout } = await run(process.execPath, [child, bundlePath, fixture], {
    env,
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout) as Sample;
}

export async function benchColdStart(
  functions: BenchFunction[],
  env: NodeJS.ProcessEnv,
  runs = MIN_COLD_START_RUNS,
  progress: (line: string) => void = () => undefined,
  /** Only the shipped build beside the all-in baseline (quick mode): a fifth of the bundling. */
  shippedOnly = false,
): Promise<ColdStartRow[]> {
  mkdirSync(OUT, { recursive: true });
  const allIn: Variant = {
    name: 'ALL-IN baseline',
    format: 'esm',
    mainFields: ['main', 'module'],
    treeShaking: false,
  };
  const builds: {
    fn: BenchFunction;
    variant: Variant;
    out: string;
    bytes: number;
    heaviest: string[];
    fixture: string;
  }[] = [];
  for (const fn of functions) {
    const entry = join(ROOT, fn.entry);
    const variants = shippedOnly ? VARIANTS.filter((v) => v.name.includes('shipped')) : VARIANTS;
    for (const [k, v] of [allIn, ...variants].entries()) {
      const out = join(
        OUT,
        v.splitting ? `${fn.name}-${k}` : `${fn.name}-${k}.${v.format === 'esm' ? 'mjs' : 'cjs'}`,
      );
      const built = await bundle(v === allIn ? allInEntry(entry) : entry, out, v);
      builds.push({
        fn,
        variant: v,
        out: built.path,
        bytes: built.bytes,
        heaviest: built.heaviest,
        fixture: join(ROOT, 'events', fn.fixture),
      });
    }
  }
  // Round-robin: every build once per round, so drift in the machine's load falls on all of them alike.
  const samples = builds.map((): Sample[] => []);
  progress(`cold start: ${builds.length} bundles built, ${runs} round(s) of fresh processes`);
  for (let round = 0; round < runs; round++) {
    progress(`  cold start round ${round + 1}/${runs}`);
    for (const [k, b] of builds.entries()) samples[k]?.push(await sample(b.out, b.fixture, env));
  }
  const total = (x: Sample) => x.importMs + x.invokeMs;
  return builds.map((b, k) => {
    const s = samples[k] ?? [];
    // Paired with the same function's all-in sample of the same round: both saw the same machine load.
    const base = samples[builds.findIndex((x) => x.fn === b.fn && x.variant === allIn)] ?? [];
    return {
      fn: b.fn.name,
      variant: b.variant.name,
      bytes: b.bytes,
      heaviest: b.heaviest,
      ratios: s.map((x, round) => total(x) / total(base[round] ?? x)),
      importMs: median(s.map((x) => x.importMs)),
      invokeMs: median(s.map((x) => x.invokeMs)),
      totalMs: median(s.map(total)),
      rssMb: median(s.map((x) => x.rssMb)),
      failures: s.filter((x) => !x.ok).length,
    };
  });
}

export function printColdStartTable(rows: ColdStartRow[], functions: BenchFunction[]): void {
  const runs = rows[0]?.ratios.length ?? 0;
  console.log(
    `\nCold start: bundle size, median of ${runs} fresh Node processes per build (import + first invocation);` +
      '\nvs all-in: the median of the per-round ratios to the all-in bundle, with their spread (min-max)\n',
  );
  const header = [
    'function',
    'bundle',
    'KiB',
    'import ms',
    '1st invoke ms',
    'total ms',
    'RSS MiB',
    'vs all-in',
    'spread',
    'budget',
  ];
  const lines: string[][] = [];
  for (const fn of functions) {
    const base = rows.find((r) => r.fn === fn.name && r.variant.startsWith('ALL-IN'));
    for (const r of rows.filter((x) => x.fn === fn.name)) {
      const ratio = base ? median(r.ratios) : Number.NaN;
      const budget = COLD_START_BUDGET;
      const shipped = r.variant.includes('shipped');
      const isBase = r.variant.startsWith('ALL-IN');
      lines.push([
        r.fn,
        r.variant,
        (r.bytes / 1024).toFixed(0),
        r.importMs.toFixed(1),
        r.invokeMs.toFixed(1),
        r.totalMs.toFixed(1),
        r.rssMb.toFixed(0),
        isBase ? '1.00' : ratio.toFixed(2),
        isBase ? '' : `${Math.min(...r.ratios).toFixed(2)}-${Math.max(...r.ratios).toFixed(2)}`,
        shipped ? `${budget} ${ratio <= budget ? 'ok' : 'OVER'}` : '',
      ]);
      if (r.failures > 0) console.log(`  note: ${r.failures} invocation(s) of ${r.fn} (${r.variant}) threw`);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (l: string[]) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log('\nHeaviest packages of each shipped bundle (KiB of output, esbuild metafile):');
  for (const r of rows.filter((x) => x.variant.includes('shipped'))) {
    console.log(`  ${r.fn}: ${r.heaviest.join(', ')}`);
  }
}
