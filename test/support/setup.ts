/**
 * Every test worker bundles in its own esbuild scratch folder: `sls package` and `sls invoke local` run
 * from two workers at once would otherwise overwrite each other's bundles in .esbuild (a run then failed
 * or hung). The child processes the tests start inherit it.
 */
process.env.OPS_ESBUILD_WORK_FOLDER = `.esbuild/worker-${process.pid}`;
