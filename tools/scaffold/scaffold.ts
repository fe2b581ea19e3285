/**
 * The scaffold behind `npm run new:function -- <name>`: the name's checks, the files a new function
 * starts with (from the templates beside this file) and the edits that register it. Pure apart from
 * reading the templates, so the unit tests hold every rule without writing the repository.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const TEMPLATES = join(import.meta.dirname, 'template');

/** The names one function goes by, each where the house uses it. */
export interface ScaffoldNames {
  /** `onHealthEvent`: the folder, the registry, the Lambda function. */
  name: string;
  /** `HealthEvent`: its types and functions (`HealthEventFacts`, `planHealthEvent`). */
  type: string;
  /** `HealthEvent` (`QuotaBreachEvent` for onQuotaBreach): its event's schema, never `HealthEventEvent`. */
  event: string;
  /** `healthEvent`: its key in a stage's configuration. */
  key: string;
  /** `on-health-event`: its role's and its rule's short names. */
  kebab: string;
}

/**
 * The longest role short name: `ops-autopilot-<stage>-<role>-<region>` must fit IAM's 64 characters with
 * a stage of up to 10 and the longest region name (14, `ap-southeast-2`).
 */
export const MAX_ROLE_NAME = 24;

/** What already exists that a new function must not collide with. */
export interface Existing {
  functions: readonly string[];
  settingsKeys: readonly string[];
}

/** The names of a new function, or an Error naming what is wrong with the name. */
export function scaffoldNames(name: string | undefined, existing: Existing): ScaffoldNames {
  if (name === undefined || name === '') {
    throw new Error('name: missing; usage: npm run new:function -- <name> (e.g. onHealthEvent)');
  }
  if (!/^on[A-Z][A-Za-z0-9]*$/.test(name)) {
    throw new Error(
      `name: "${name}" must be camelCase, "on" then a capital then letters and digits (e.g. onHealthEvent)`,
    );
  }
  const type = name.slice(2);
  const key = type.charAt(0).toLowerCase() + type.slice(1);
  const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (kebab.length > MAX_ROLE_NAME) {
    throw new Error(
      `name: "${name}" is too long: its role name ${kebab} has ${kebab.length} characters, at most ${MAX_ROLE_NAME} fit IAM's 64`,
    );
  }
  if (existing.functions.some((f) => f.toLowerCase() === name.toLowerCase())) {
    throw new Error(`name: "${name}" exists already (functions/index.ts or functions/${name}/)`);
  }
  if (existing.settingsKeys.includes(key)) {
    throw new Error(`name: "${name}" would take the stage settings key "${key}", which exists already`);
  }
  const event = type.endsWith('Event') ? type : `${type}Event`;
  return { name, type, event, key, kebab };
}

export interface ScaffoldFile {
  /** Relative to the repository. */
  path: string;
  text: string;
}

const fill = (template: string, n: ScaffoldNames) =>
  template
    .replaceAll('__NAME__', n.name)
    .replaceAll('__EVENT__', n.event)
    .replaceAll('__TYPE__', n.type)
    .replaceAll('__KEY__', n.key)
    .replaceAll('__KEBAB__', n.kebab);

function templates(dir = TEMPLATES): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? templates(path) : [relative(TEMPLATES, path)];
  });
}

/** Where a template's file goes: `events/...` under events/<name>/, the page under docs/functions/, the rest in the folder. */
function destination(template: string, n: ScaffoldNames): string {
  const path = template
    .replace(/\.tpl$/, '')
    .split(sep)
    .join('/');
  if (path.startsWith('events/')) return `events/${n.name}/${path.slice('events/'.length)}`;
  if (path === 'docs.md') return `docs/functions/${n.name}.md`;
  return `functions/${n.name}/${path}`;
}

/** Every file a new function starts with, filled in with its names. */
export function scaffoldFiles(n: ScaffoldNames): ScaffoldFile[] {
  return templates()
    .map((t) => ({ path: destination(t, n), text: fill(readFileSync(join(TEMPLATES, t), 'utf8'), n) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Lines inserted among sorted import lines matching `pattern`, before the first that sorts after it. */
function insertSorted(lines: string[], pattern: RegExp, line: string, file: string): void {
  const indexes = lines.flatMap((l, i) => (pattern.test(l) ? [i] : []));
  const last = indexes.at(-1);
  if (last === undefined) throw new Error(`${file}: no line like ${pattern} to insert beside`);
  const after = indexes.find((i) => (lines[i] as string) > line);
  lines.splice(after ?? last + 1, 0, line);
}

/**
 * The registry with the function: its deployment's and its settings' imports (in order), its settings in
 * `functionSettings` (the stage schema, config/stageConfig.ts, composes them from there) and its entry at
 * the list's end.
 */
export function withRegistryEntry(source: string, n: ScaffoldNames): string {
  const lines = source.split('\n');
  const deploymentImport = `import { deployment as ${n.name} } from './${n.name}/deployment.ts';`;
  insertSorted(
    lines,
    /^import \{ deployment as \w+ \} from '\.\/\w+\/deployment\.ts';$/,
    deploymentImport,
    'functions/index.ts',
  );
  // Beside its deployment's, where Biome sorts it (by path).
  lines.splice(
    lines.indexOf(deploymentImport) + 1,
    0,
    `import { settings as ${n.name}Settings } from './${n.name}/settings.ts';`,
  );
  const settingsEnd = lines.findIndex((l) =>
    l.startsWith('} as const satisfies Record<string, FunctionSettings>'),
  );
  if (
    settingsEnd < 0 ||
    !lines.slice(0, settingsEnd).some((l) => l.startsWith('export const functionSettings'))
  ) {
    throw new Error(
      'functions/index.ts: no `export const functionSettings = { ... } as const satisfies` to add the settings to',
    );
  }
  lines.splice(settingsEnd, 0, `  ${n.name}: ${n.name}Settings,`);
  const end = lines.lastIndexOf('];');
  if (end < 0 || !lines.slice(0, end).some((l) => l.startsWith('export const registry'))) {
    throw new Error('functions/index.ts: no `export const registry = [ ... ];` to add the entry to');
  }
  lines.splice(
    end,
    0,
    '  described(',
    `    '${n.name}',`,
    `    ${n.name},`,
    `    async () => (await import('./${n.name}/spec.ts')).${n.name},`,
    `    async () => (await import('./${n.name}/handler.ts')).handler as LambdaHandler,`,
    '  ),',
  );
  return lines.join('\n');
}

/**
 * Every stage of config/stages.ts with the function's key, at its end: its defaults, written out so a
 * stage's author sees where to change them.
 */
export function withStageSettings(source: string, n: ScaffoldNames): string {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => l.startsWith('export const stages'));
  if (start < 0) throw new Error('config/stages.ts: no `export const stages = { ... }`');
  const ends: number[] = [];
  let inStage = false;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^ {2}['"\w-]+: \{$/.test(line)) inStage = true;
    else if (inStage && line === '  },') {
      ends.push(i);
      inStage = false;
    } else if (line === '};') break;
  }
  if (ends.length === 0) throw new Error('config/stages.ts: no stage (`  <stage>: {` ... `  },`) to add to');
  for (const end of ends.reverse()) {
    lines.splice(
      end,
      0,
      `    // ${n.name}: its defaults (functions/${n.name}/settings.ts); set a key here to change this stage's.`,
      `    ${n.key}: {},`,
    );
  }
  return lines.join('\n');
}

/** A file the scaffold edits (besides those it writes), and the edit. */
export interface ScaffoldEdit {
  /** Relative to the repository. */
  path: string;
  change(source: string, n: ScaffoldNames): string;
}

/**
 * Every file the scaffold edits: the registry (its deployment, its settings, its entry) and the stages
 * (its key). Nothing else, so a new function is reviewed in its own folder, its fixtures, these two
 * files and docs/ (the generated blocks `npm run docs` rewrites).
 */
export const SCAFFOLD_EDITS: readonly ScaffoldEdit[] = [
  { path: 'functions/index.ts', change: withRegistryEntry },
  { path: 'config/stages.ts', change: withStageSettings },
];
