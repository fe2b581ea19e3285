// esbuild plugins of every function bundle: serverless.yml's custom.esbuild.plugins, and the cold-start
// bench's shipped build (scripts/bench/coldStart.ts), so the bench measures what ships.
const { dirname, join } = require('node:path');

/**
 * zod re-exports every locale it has (`z.locales`, from classic/external.js and core/index.js: about
 * 250 KiB minified, 40-odd languages) whether or not a schema uses one. A function reports in English
 * only, which zod registers by default from locales/en.js (classic/schemas.js imports it directly), so
 * the locale index resolves to English alone: `z.locales.en` stays, `z.locales.fr` is undefined.
 * A zod version that moves the index breaks the package test (test/package/coldStart.test.ts), not a
 * running function.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)) return undefined;
      return {
        path: join(dirname(args.importer), '..', 'locales', 'english-only'),
        namespace: 'zod-english-only',
      };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

module.exports = [zodEnglishOnly];
