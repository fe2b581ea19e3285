import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type Packaged, runSls, type Template } from '../../tools/local/packaged.ts';

export interface PackagedRun extends Packaged {
  /** What `sls package` printed (stdout and stderr). */
  out: string;
}

interface Outcome {
  code: number | null;
  out: string;
  hung: boolean;
}

/** The longest one `sls package` may take before the files waiting on it fail. */
const PACKAGE_TIMEOUT_MS = 240_000;

/** Resolves when `file` exists (another test worker wrote it), or fails after the time allowed. */
function fileWritten(dir: string, file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const done = (error?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new Error(`no ${file} in ${dir} after ${timeoutMs} ms: the packaging worker died?`)),
      timeoutMs,
    );
    watcher.on('change', () => {
      if (existsSync(join(dir, file))) done();
    });
    // Written before the watch began.
    if (existsSync(join(dir, file))) done();
  });
}

/**
 * `sls package` of this stage and params, offline, once per test run: the first file to ask packages
 * (the others wait for it), as CI and a user would run it, into a folder of the run's scratch space
 * (packageCache.ts). A failed packaging fails every file that asked, with what it printed.
 */
export async function packagedOnce(stage = 'dev', params: Record<string, string> = {}): Promise<PackagedRun> {
  const cache = inject('packageCacheDir');
  const key = createHash('sha256').update(JSON.stringify({ stage, params })).digest('hex').slice(0, 16);
  const dir = join(cache, key);
  const outcomeFile = `${key}.json`;
  let claimed = true;
  try {
    mkdirSync(`${dir}.lock`);
  } catch {
    claimed = false;
  }
  if (claimed) {
    const paramArgs = Object.entries(params).map(([k, v]) => `--param=${k}=${v}`);
    const run = await runSls(
      ['package', '--stage', stage, '--package', dir, ...paramArgs],
      { ...process.env, AWS_ENDPOINT_URL: '' },
      PACKAGE_TIMEOUT_MS,
    );
    // Written whole, then renamed: a waiting worker never reads half of it.
    writeFileSync(join(cache, `${outcomeFile}.partial`), JSON.stringify(run satisfies Outcome));
    renameSync(join(cache, `${outcomeFile}.partial`), join(cache, outcomeFile));
  } else {
    await fileWritten(cache, outcomeFile, PACKAGE_TIMEOUT_MS + 30_000);
  }
  const outcome = JSON.parse(readFileSync(join(cache, outcomeFile), 'utf8')) as Outcome;
  if (outcome.code !== 0) {
    throw new Error(
      `sls package --stage ${stage} ${outcome.hung ? 'hung' : `exited ${outcome.code}`}:\n${outcome.out}`,
    );
  }
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  return {
    dir,
    templatePath,
    template: JSON.parse(readFileSync(templatePath, 'utf8')) as Template,
    out: outcome.out,
  };
}
