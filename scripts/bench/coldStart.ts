import { execFile } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, '.bench', 'coldstart');

export interface BenchFunction {
  name: string;
  entry: string;
  fixture: string;
  /** A heavy bundle (the EC2 client): its budget is 0.85 of the all-in bundle, not 0.6. */
  heavy: boolean;
}

export interface Variant {
  name: string;
  format: 'esm' | 'cjs';
  mainFields: string[];
  treeShaking: boolean;
}

/** What serverless.yml ships (ESM, the SDK's ES builds first), and the alternatives it was chosen over. */
export const VARIANTS: Variant[] = [
  { name: 'esm, module first (shipped)', format: 'esm', mainFields: ['module', 'main'], treeShaking: true },
  { name: 'esm, main first', format: 'esm', mainFields: ['main', 'module'], treeShaking: true },
  { name: 'cjs, module first', format: 'cjs', mainFields: ['module', 'main'], treeShaking: true },
  {
    name: 'cjs, main first (esbuild default)',
    format: 'cjs',
    mainFields: ['main', 'module'],
    treeShaking: true,
  },
];

const ESM_BANNER =
  "import { createRequire as __opsCreateRequire } from 'node:module'; const require = __opsCreateRequire(import.meta.url);";

async function bundle(
  entry: string,
  outfile: string,
  v: Variant,
  extra: Partial<BuildOptions> = {},
): Promise<number> {
  await build({
    entryPoints: [entry],
    outfile,
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
    ...(v.format === 'esm' ? { banner: { js: ESM_BANNER } } : {}),
    ...extra,
  });
  return statSync(outfile).size;
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
  importMs: number;
  invokeMs: number;
  totalMs: number;
  rssMb: number;
  failures: number;
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
  runs = 5,
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
  const builds: { fn: BenchFunction; variant: Variant; out: string; bytes: number; fixture: string }[] = [];
  for (const fn of functions) {
    const entry = join(ROOT, fn.entry);
    const variants = shippedOnly ? VARIANTS.filter((v) => v.name.includes('shipped')) : VARIANTS;
    for (const [k, v] of [allIn, ...variants].entries()) {
      const out = join(OUT, `${fn.name}-${k}.${v.format === 'esm' ? 'mjs' : 'cjs'}`);
      const bytes = await bundle(v === allIn ? allInEntry(entry) : entry, out, v);
      builds.push({ fn, variant: v, out, bytes, fixture: join(ROOT, 'events', fn.fixture) });
    }
  }
  // Round-robin: every build once per round, so drift in the machine's load falls on all of them alike.
  const samples = builds.map((): Sample[] => []);
  progress(`cold start: ${builds.length} bundles built, ${runs} round(s) of fresh processes`);
  for (let round = 0; round < runs; round++) {
    progress(`  cold start round ${round + 1}/${runs}`);
    for (const [k, b] of builds.entries()) samples[k]?.push(await sample(b.out, b.fixture, env));
  }
  return builds.map((b, k) => {
    const s = samples[k] ?? [];
    return {
      fn: b.fn.name,
      variant: b.variant.name,
      bytes: b.bytes,
      importMs: median(s.map((x) => x.importMs)),
      invokeMs: median(s.map((x) => x.invokeMs)),
      totalMs: median(s.map((x) => x.importMs + x.invokeMs)),
      rssMb: median(s.map((x) => x.rssMb)),
      failures: s.filter((x) => !x.ok).length,
    };
  });
}

export function printColdStartTable(rows: ColdStartRow[], functions: BenchFunction[]): void {
  console.log('\nCold start: bundle size, median of fresh Node processes (import + first invocation)\n');
  const header = [
    'function',
    'bundle',
    'KiB',
    'import ms',
    '1st invoke ms',
    'total ms',
    'RSS MiB',
    'vs all-in',
    'budget',
  ];
  const lines: string[][] = [];
  for (const fn of functions) {
    const base = rows.find((r) => r.fn === fn.name && r.variant.startsWith('ALL-IN'));
    for (const r of rows.filter((x) => x.fn === fn.name)) {
      const ratio = base ? r.totalMs / base.totalMs : Number.NaN;
      const budget = fn.heavy ? 0.85 : 0.6;
      const shipped = r.variant.includes('shipped');
      lines.push([
        r.fn,
        r.variant,
        (r.bytes / 1024).toFixed(0),
        r.importMs.toFixed(1),
        r.invokeMs.toFixed(1),
        r.totalMs.toFixed(1),
        r.rssMb.toFixed(0),
        r.variant.startsWith('ALL-IN') ? '1.00' : ratio.toFixed(2),
        shipped ? `${budget} ${ratio <= budget ? 'ok' : 'OVER'}` : '',
      ]);
      if (r.failures > 0) console.log(`  note: ${r.failures} invocation(s) of ${r.fn} (${r.variant}) threw`);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (l: string[]) => l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
}
