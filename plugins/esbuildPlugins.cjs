// esbuild plugins of every function bundle: serverless.yml's custom.esbuild.plugins, and the cold-start
// bench's shipped build (scripts/bench/coldStart.ts), so the bench measures what ships.
const { readFile } = require('node:fs/promises');
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

/**
 * An AWS SDK client's schemas (`dist-es/schemas/schemas_0.js`: a shape per array, for every operation of
 * the service) name their member traits with computed keys, `{ [_eQN]: 'Min' }`, where `_eQN` is a
 * module constant holding a string. esbuild cannot prove a computed key free of side effects, so it keeps
 * every shape holding one and everything those reference: EC2's client kept 552 KiB of schemas for the
 * one or two commands a function sends. Writing each such key as the literal its constant holds
 * (`{ "ec2QueryName": 'Min' }`, the same object) lets esbuild drop the shapes no command reaches
 * (EC2: about 22 KiB left with DescribeInstances). Keys whose constant is not a plain string stay as they are.
 */
const SCHEMA_FILE =
  /[\\/]node_modules[\\/]@aws-sdk[\\/]client-[a-z0-9-]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;
/**
 * Each schema file rewritten once per process: `sls package` bundles every function in one process, and
 * most hold the same clients (a node_modules file does not change while a package is built).
 */
const rewrittenSchemas = new Map();
const sdkSchemaLiteralKeys = {
  name: 'sdk-schema-literal-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_FILE }, async (args) => {
      let contents = rewrittenSchemas.get(args.path);
      if (contents === undefined) {
        const source = await readFile(args.path, 'utf8');
        const strings = new Map();
        for (const [, name, literal] of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm))
          strings.set(name, literal);
        contents = source.replace(/\[(_\w+)\]:/g, (key, name) =>
          strings.has(name) ? `${strings.get(name)}:` : key,
        );
        rewrittenSchemas.set(args.path, contents);
      }
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

module.exports = [zodEnglishOnly, sdkSchemaLiteralKeys];
