import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { compileSigmaRule, type SigmaProblem } from './compile.ts';
import type { CompiledRule } from './rule.ts';

/**
 * Package time only (it reads files): the Sigma rules in `detections/` compiled into the module the
 * function bundles, `rules.generated.json`. The plugin (plugins/ops-config.cjs) runs this before it loads
 * the registry, so `sls package` routes and runs what is in `detections/` now; `npm run sigma` does the
 * same by hand, and a unit test fails when the committed module is not what `detections/` compiles to.
 */

export type { CompiledRule } from './rule.ts';

export const SIGMA_DIRECTORY = 'detections';
export const GENERATED_MODULE = 'functions/onCloudTrail/sigma/rules.generated.json';
/** More rules than this is a folder copied whole, not a selection: the pattern would not hold their calls. */
const MAX_RULES = 100;

export interface SigmaLoad {
  rules: CompiledRule[];
  errors: SigmaProblem[];
  warnings: SigmaProblem[];
}

export const describeProblem = (p: SigmaProblem) => `${p.file}:${p.line}: ${p.message}`;

/** Every `.yml`/`.yaml` file of the folder, in name order, compiled; ids must be unique. */
export function loadSigmaRules(root: string, directory = SIGMA_DIRECTORY): SigmaLoad {
  const dir = join(root, directory);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
    : [];
  const load: SigmaLoad = { rules: [], errors: [], warnings: [] };
  if (files.length > MAX_RULES) {
    load.errors.push({ file: relative(root, dir), line: 1, message: `more than ${MAX_RULES} rule files` });
    return load;
  }
  const ids = new Map<string, string>();
  for (const name of files) {
    const file = relative(root, join(dir, name));
    const compiled = compileSigmaRule(readFileSync(join(dir, name), 'utf8'), file);
    load.errors.push(...compiled.errors);
    load.warnings.push(...compiled.warnings);
    if (!compiled.rule) continue;
    const first = ids.get(compiled.rule.id);
    if (first) {
      load.errors.push({ file, line: 1, message: `id ${compiled.rule.id} is also the id of ${first}` });
      continue;
    }
    ids.set(compiled.rule.id, file);
    load.rules.push(compiled.rule);
  }
  return load;
}

export class SigmaRulesError extends Error {}

/**
 * Compiles the folder and writes the generated module when what it holds differs (so an unchanged
 * folder leaves the file, and its formatting, alone). Throws one error listing every problem: a rule
 * that cannot be compiled fails the package.
 */
export function writeSigmaModule(root: string, directory = SIGMA_DIRECTORY): SigmaLoad {
  const load = loadSigmaRules(root, directory);
  if (load.errors.length > 0) {
    throw new SigmaRulesError(
      `Sigma rules in ${directory}/ cannot be compiled:\n${load.errors.map(describeProblem).join('\n')}`,
    );
  }
  const target = join(root, GENERATED_MODULE);
  const current = existsSync(target) ? (JSON.parse(readFileSync(target, 'utf8')) as unknown) : undefined;
  if (!isDeepStrictEqual(current, load.rules))
    writeFileSync(target, `${JSON.stringify(load.rules, null, 2)}\n`);
  return load;
}
