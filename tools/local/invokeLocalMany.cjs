'use strict';
/**
 * `sls invoke local` several times in one node process: osls's CLI (node_modules/osls/scripts/serverless.js)
 * run once per invocation, its modules loaded once (loading them is most of the ~5.8 s of CPU an
 * `sls invoke local` costs). Each invocation runs as the CLI would run alone: from the repository, with
 * its own argv and environment, the CLI's own bundling and handler call; what it printed on stdout and on
 * stderr and the exit code it set are kept apart per invocation.
 *
 *   node tools/local/invokeLocalMany.cjs <invocations.json> <results.json>
 *
 * invocations.json: [{ "args": ["invoke", "local", "-f", ...], "env": { ... } }, ...]
 * results.json: [{ "code": 0, "stdout": "...", "stderr": "..." }, ...], written once all have run.
 * Only what a process shares is at stake, so what exits or hangs a process (test/package/invokeLocal's
 * start-up errors) keeps a process of its own.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const [invocationsFile, resultsFile] = process.argv.slice(2);
if (!invocationsFile || !resultsFile) {
  throw new Error('usage: node tools/local/invokeLocalMany.cjs <invocations.json> <results.json>');
}
const invocations = JSON.parse(readFileSync(invocationsFile, 'utf8'));
const root = process.cwd();
const osls = dirname(require.resolve('osls/package.json', { paths: [root] }));
const cli = join(osls, 'scripts', 'serverless.js');
// The CLI's last step (finalize) ends with the deprecation summary, error or not: the invocation is over.
const deprecations = require(join(osls, 'lib', 'utils', 'log-deprecation.js'));
const printSummary = deprecations.printSummary;
const write = { stdout: process.stdout.write, stderr: process.stderr.write };

/** Collects what a stream is given instead of writing it. */
function collecting(into, stream) {
  return (chunk, encoding, callback) => {
    into[stream] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) done();
    return true;
  };
}

async function invoke({ args, env }) {
  // Each starts as the CLI alone would: from the repository (serverless-esbuild moves into its bundle
  // folder), with its own environment only (invoke local copies the function's environment into it).
  process.chdir(root);
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, env);
  process.exitCode = undefined;
  process.argv = [process.argv[0], cli, ...args];
  const result = { stdout: '', stderr: '' };
  const over = new Promise((resolve) => {
    deprecations.printSummary = async () => {
      await printSummary();
      resolve();
    };
  });
  process.stdout.write = collecting(result, 'stdout');
  process.stderr.write = collecting(result, 'stderr');
  try {
    delete require.cache[cli];
    require(cli);
    await over;
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
  return { code: process.exitCode ?? 0, ...result };
}

(async () => {
  const results = [];
  for (const invocation of invocations) results.push(await invoke(invocation));
  writeFileSync(resultsFile, JSON.stringify(results));
  // The exit codes are in the results; the process then ends as the CLI would, when nothing is left open.
  process.exitCode = 0;
})();
