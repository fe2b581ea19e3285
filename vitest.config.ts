import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import SlowFilesFirst from './test/support/slowFilesFirst.ts';

/** The pure layer: files that touch no AWS, no process and no module state another file relies on. */
const UNIT = ['test/unit/**/*.test.ts'];
/**
 * Files that keep a fresh worker each: those that mock a module (vi.mock applies only to a module graph
 * not yet loaded, and an earlier file in a shared worker has loaded it).
 */
const mocksAModule = (file: string) => /\bvi\.mock\(/.test(readFileSync(file, 'utf8'));
/** A layer's other files share their workers, as the unit files do (test/support/sharedWorker.ts). */
const sharedFilesOf = (layer: string) =>
  readdirSync(join(import.meta.dirname, 'test', layer), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `test/${layer}/${file}`)
    .filter((file) => !mocksAModule(join(import.meta.dirname, file)));
const SHARED_HANDLER = sharedFilesOf('handler');
const SHARED_EMULATOR = sharedFilesOf('emulator');
const SHARED_PACKAGE = sharedFilesOf('package');

/**
 * V8's compiled code for every module Node loads itself (the SDK in each worker; osls, serverless-esbuild
 * and tsx in each of the run's ~36 `sls` processes), kept on disk: a process after the first skips most of
 * the compiling (an `sls print` 8.4 s of CPU without, 5.7 s with). The workers and the commands the tests
 * start inherit the variable; node checks each entry against the file's contents, so an edit is recompiled.
 */
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, 'node_modules', '.cache', 'node-compile-cache');
enableCompileCache(process.env.NODE_COMPILE_CACHE);

/**
 * The run's own temporary folder, removed when it ends (test/support/runScratch.ts): the copies of the
 * repository, the packages, and tsx's cache of compiled TypeScript, which is keyed by each file's path and
 * so never reused by another run's copies or clone. In the shared /tmp that cache only grows (190,000
 * files on this machine), and every long-lived tsx process (each `sls`) lists it to expire
 * old entries: about 0.4 s of CPU each.
 */
if (!process.env.OPS_TEST_RUN_TMPDIR) {
  process.env.OPS_TEST_RUN_TMPDIR = mkdtempSync(join(tmpdir(), 'ops-autopilot-test-run-'));
  process.env.TMPDIR = process.env.OPS_TEST_RUN_TMPDIR;
  // A vitest started inside the run (none today) inherits the folder and leaves its removal to this one.
  process.env.OPS_TEST_RUN_TMPDIR_OWNER = String(process.pid);
}

export default defineConfig({
  test: {
    setupFiles: ['test/support/setup.ts'],
    // One `sls package` per stage and params per run, shared by the package tests (test/support/packagedOnce.ts);
    // the run's motos, one per emulator file running at once (test/support/sharedMoto.ts).
    globalSetup: ['test/support/runScratch.ts', 'test/support/packageCache.ts', 'test/support/motoPool.ts'],
    pool: 'forks',
    // The longest files start first, so no worker is left to run one alone at the end.
    sequence: { sequencer: SlowFilesFirst },
    // Two cores here; emulator files share one moto_server per worker slot (test/support/sharedMoto.ts).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      // Nothing leaves the machine: an unmocked call fails fast on the discard port instead of reaching AWS.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      STAGE: 'dev',
      STATE_TABLE_NAME: 'ops-autopilot-test-state',
      PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:ops-autopilot-test-pages',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_NAME: 'ops-autopilot-test',
    },
    projects: [
      {
        extends: true,
        // A worker runs many unit files one after another, their modules evaluated once per worker: a fresh
        // worker per file cost a fork and the imports again (~0.3 s each, 77 files). test/unit stays free of
        // module state a later file could see (docs/testing.md); what a file may change (its environment,
        // the clock, client stubs) is put back after it by test/support/sharedWorker.ts.
        test: {
          name: 'unit',
          include: UNIT,
          isolate: false,
          // Puts back what a file changed in the process (environment, clock, client stubs).
          setupFiles: ['test/support/sharedWorker.ts'],
        },
      },
      {
        extends: true,
        // The same for handler files: a fresh worker per file spent ~1.7 s importing the handlers and the
        // SDK again (two thirds of the layer's time); what a file's modules cache (configuration, kill
        // switch, calendars, trail buckets, an organization's member credentials, OU paths, account names and
        // served accounts) is forgotten after it by test/support/sharedWorker.ts.
        test: {
          name: 'handler',
          include: SHARED_HANDLER,
          isolate: false,
          setupFiles: ['test/support/sharedWorker.ts'],
        },
      },
      // Emulator and package files share workers for the packages they load (the SDK, Powertools), and
      // evaluate the repository's modules again for each file (test/support/freshModules.ts): a handler
      // module builds its state table and endpoints from the file's environment when it loads.
      // test/emulator alone: 104 s of CPU with a fresh worker per file, 50 s shared.
      ...(
        [
          ['emulator', SHARED_EMULATOR],
          ['package', SHARED_PACKAGE],
        ] as const
      ).map(([name, include]) => ({
        extends: true,
        test: {
          name,
          include,
          isolate: false,
          setupFiles: ['test/support/sharedWorker.ts', 'test/support/freshModules.ts'],
        },
      })),
      {
        extends: true,
        // A scaffolded function's handler test starts beside it (npm run new:function), until it moves to test/handler/.
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts', 'functions/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            ...UNIT,
            ...SHARED_HANDLER,
            ...SHARED_EMULATOR,
            ...SHARED_PACKAGE,
          ],
        },
      },
    ],
  },
});
