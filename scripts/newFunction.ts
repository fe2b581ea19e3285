// npm run new:function -- <name>: a new function's folder, fixtures, handler test, registry entry, stage
// keys and docs page, so the suite passes with it in; it edits no other file (SCAFFOLD_EDITS) and
// regenerates docs/ and deploy/org/.
// What it writes: CONTRIBUTING.md (Add a function).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StageConfig } from '#config/stageConfig.ts';
import { registry } from '#functions/index.ts';
import {
  SCAFFOLD_EDITS,
  type ScaffoldNames,
  scaffoldFiles,
  scaffoldNames,
} from '../tools/scaffold/scaffold.ts';

const ROOT = join(import.meta.dirname, '..');

function main(): number {
  let names: ScaffoldNames;
  try {
    names = scaffoldNames(process.argv[2], {
      functions: registry.map((e) => e.name),
      settingsKeys: Object.keys(StageConfig.shape),
    });
  } catch (error) {
    console.error(`new:function: ${(error as Error).message}`);
    return 2;
  }
  const files = scaffoldFiles(names);
  const taken = [`functions/${names.name}`, `events/${names.name}`, ...files.map((f) => f.path)].filter((p) =>
    existsSync(join(ROOT, p)),
  );
  if (taken.length > 0) {
    console.error(`new:function: name: "${names.name}" exists already: ${taken.join(', ')}`);
    return 2;
  }
  for (const { path, text } of files) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), text);
    console.log(`created: ${path}`);
  }
  for (const { path, change } of SCAFFOLD_EDITS) {
    const file = join(ROOT, path);
    writeFileSync(file, change(readFileSync(file, 'utf8'), names));
    console.log(`edited:  ${path}`);
  }
  // The house's format and import order, which depend on the name (Biome sorts the imported names).
  const format = spawnSync(
    'npx',
    ['biome', 'check', '--write', `functions/${names.name}`, ...SCAFFOLD_EDITS.map((e) => e.path)],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (format.status !== 0) return format.status ?? 1;
  // The generated blocks of its page, and of the pages that list every function and setting.
  const docs = spawnSync('npm', ['run', '--silent', 'docs'], { cwd: ROOT, stdio: 'inherit' });
  if (docs.status !== 0) return docs.status ?? 1;
  // An organization's stage forwards its events from member accounts: its member templates follow.
  const org = spawnSync('npm', ['run', '--silent', 'org:templates'], { cwd: ROOT, stdio: 'inherit' });
  if (org.status !== 0) return org.status ?? 1;
  console.log(
    `\n${names.name} is an AWS Health pager to start from: change its schema, pattern, plan and fixtures to` +
      ` your source's, add its row to the README's function table, then npm run typecheck, npm run lint and` +
      ` npx vitest run functions/${names.name}.`,
  );
  return 0;
}

process.exitCode = main();
