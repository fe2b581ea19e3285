import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { parseStageConfig, StageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { FORWARDED_FUNCTION } from '#deploy/stack/forwarding.ts';
import { type Deployment, eventRuleOf, RESERVED_CONCURRENCY_CAP, registry } from '#functions/index.ts';
import { CATALOGUE, type DetectionDefaults } from '#functions/onCloudTrail/settings.ts';
import { costTable, deployOutput } from './deployFigures.ts';

/**
 * The parts of docs/ that can be derived from the registry (functions/index.ts) and the configuration
 * schema (shared/config.ts), so they are never rewritten by hand after a merge. Each sits in its document
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; `npm run docs` rewrites them and
 * test/unit/generatedDocs.test.ts fails when one is stale. Everything here is pure: it reads files only.
 */

export const ROOT = join(import.meta.dirname, '..', '..');

/** Which blocks each document holds, so a block can be neither lost nor left stale. */
export const GENERATED_DOCS: Record<string, string[]> = {
  'docs/functions/README.md': ['rules'],
  'docs/operations.md': ['invoke-local'],
  'docs/configuration.md': ['settings'],
  'docs/EMERGENCY.md': ['emergency-rules'],
  'docs/DEPLOY.md': ['concurrency', 'deploy-output', 'cost'],
  ...Object.fromEntries(
    registry.map((e) => [
      `docs/functions/${e.name}.md`,
      e.name === 'onCloudTrail'
        ? ['cloudtrail-detections', `settings:${e.name}`, `trigger:${e.name}`, `iam:${e.name}`]
        : [`settings:${e.name}`, `trigger:${e.name}`, `iam:${e.name}`],
    ]),
  ),
};

interface EventPattern {
  source?: unknown[];
  'detail-type'?: string[];
}

/**
 * A pattern file holds one pattern or several, one rule each (EventBridge's 2,048-character limit); a
 * deployment may give them as data instead.
 */
function patternsOf(deployment: Deployment): (EventPattern | undefined)[] {
  const { trigger } = deployment;
  if ('manual' in trigger) return [];
  if ('patterns' in trigger) return trigger.patterns;
  if (!('patternFile' in trigger)) return [undefined];
  const json: EventPattern | EventPattern[] = JSON.parse(
    readFileSync(join(ROOT, trigger.patternFile), 'utf8'),
  );
  return Array.isArray(json) ? json : [json];
}

/** `<rule>` for the first pattern (or the schedule), `<rule>-2`... for the others, as the plugin names them. */
const ruleNames = (rule: string, count: number) =>
  Array.from({ length: count }, (_, i) => `ops-autopilot-<stage>-${i === 0 ? rule : `${rule}-${i + 1}`}`);

/** A function's rule names; none for a function invoked by hand. */
const rulesOf = (deployment: Deployment): string[] => {
  const rule = eventRuleOf(deployment);
  return rule ? ruleNames(rule.trigger.rule, patternsOf(deployment).length) : [];
};

const code = (s: string) => `\`${s.replaceAll('|', '\\|')}\``;
const sourceText = (s: unknown) =>
  typeof s === 'string'
    ? s
    : typeof s === 'object' && s && 'prefix' in s
      ? `${String(s.prefix)}*`
      : JSON.stringify(s);

function triggerText(deployment: Deployment, pattern: EventPattern | undefined): string {
  const { trigger } = deployment;
  if ('manual' in trigger) return trigger.manual;
  if ('scheduleParam' in trigger) {
    return `schedule, stage param ${code(trigger.scheduleParam)} (serverless.yml), or a manual invoke`;
  }
  const sources = (pattern?.source ?? []).map(sourceText).map(code).join(', ');
  const types = (pattern?.['detail-type'] ?? []).map((t) => `"${t}"`).join(', ');
  const from =
    'patterns' in trigger ? `derived from ${code(trigger.patternsFrom)}` : code(trigger.patternFile);
  return `${sources}: ${types} (${from})`;
}

function ruleRows(): string[] {
  return registry.flatMap(({ name, deployment }) => {
    const patterns = patternsOf(deployment);
    if ('manual' in deployment.trigger) {
      return [`| [${name}](${name}.md) | none: invoked by hand | ${triggerText(deployment, undefined)} |`];
    }
    return rulesOf(deployment).map(
      (rule, i) => `| [${name}](${name}.md) | ${code(rule)} | ${triggerText(deployment, patterns[i])} |`,
    );
  });
}

function rulesTable(): string {
  return ['| function | EventBridge rule | trigger |', '|---|---|---|', ...ruleRows()].join('\n');
}

function functionTrigger(name: string): string {
  const entry = registry.find((e) => e.name === name);
  if (!entry) throw new Error(`no function ${name} in the registry`);
  const { deployment } = entry;
  const patterns = patternsOf(deployment);
  const lines =
    'manual' in deployment.trigger
      ? [`- No EventBridge rule: ${triggerText(deployment, undefined)}.`]
      : rulesOf(deployment).map((rule, i) => `- ${code(rule)}: ${triggerText(deployment, patterns[i])}`);
  const retries =
    deployment.maximumRetryAttempts === 0
      ? 'no asynchronous retries (an asynchronous invocation that fails goes straight to the failure queue)'
      : `asynchronous retries ${deployment.maximumRetryAttempts} within ${deployment.maximumEventAge} s, then the failure queue`;
  return [
    ...lines,
    `- Runs as ${code(`ops-autopilot-<stage>-${name}`)}: timeout ${deployment.timeout ?? 60} s, memory ${deployment.memorySize ?? 256} MB, reserved concurrency ${deployment.reservedConcurrency}, ${retries}.`,
    `- Sample event: ${code(`events/${deployment.sampleFixture}`)}.`,
  ].join('\n');
}

function invokeLocal(): string {
  const lines = registry.map(
    ({ name, deployment }) => `npx sls invoke local -f ${name} --path events/${deployment.sampleFixture}`,
  );
  return [
    '```sh',
    ...lines,
    'npm run local:pages              # the pages they sent, each shown once',
    '```',
  ].join('\n');
}

function detectionsTable(): string {
  const rows = Object.entries(CATALOGUE).map(([name, d]: [string, DetectionDefaults]) => {
    return `| ${code(name)} | ${d.cis ?? ''} | ${d.action} | ${d.severity} | ${(d.remediations ?? []).map(code).join(', ')} | ${d.describes} |`;
  });
  return [
    '| detection | CIS | default | severity | remediation (off by default) | matches |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

// The zod schema, read as a table: one row per setting a stage can write.
type Schema = z.core.$ZodType;
interface SettingRow {
  key: string;
  allowed: string;
  byDefault: string;
  description: string;
}

const defOf = (t: Schema) => t._zod.def as unknown as Record<string, unknown> & { type: string };
/** A bound a person would write: not zod's infinities nor the safe-integer limit `.int()` implies. */
const bounded = (v: number | null | undefined): v is number =>
  typeof v === 'number' && Math.abs(v) < Number.MAX_SAFE_INTEGER;
const descriptionOf = (t: Schema) => (t as { description?: string }).description ?? '';

function allowedOf(t: Schema): string {
  const def = defOf(t);
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
      return allowedOf(def.innerType as Schema);
    case 'pipe':
      return allowedOf(def.in as Schema);
    case 'enum':
      return Object.values(def.entries as Record<string, string>)
        .map(code)
        .join(', ');
    case 'literal':
      return (def.values as unknown[]).map((v) => code(JSON.stringify(v))).join(', ');
    case 'number': {
      const n = t as { minValue?: number | null; maxValue?: number | null; isInt?: boolean };
      const range =
        bounded(n.minValue) && bounded(n.maxValue)
          ? ` ${n.minValue} to ${n.maxValue}`
          : bounded(n.minValue)
            ? ` from ${n.minValue}`
            : '';
      return `${n.isInt ? 'integer' : 'number'}${range}`;
    }
    case 'array':
      return `list of ${allowedOf(def.element as Schema)}`;
    case 'record':
      return `map to ${allowedOf(def.valueType as Schema)}`;
    case 'object':
      return `{ ${Object.keys(def.shape as Record<string, Schema>).join(', ')} }`;
    case 'union':
      return (def.options as Schema[]).map(allowedOf).join(' or ');
    default:
      return def.type;
  }
}

function defaultOf(t: Schema): string | undefined {
  const def = defOf(t);
  if (def.type === 'default' || def.type === 'prefault') {
    const value = def.defaultValue;
    const inner = defaultOf(def.innerType as Schema);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? inner
      : code(JSON.stringify(value));
  }
  if (def.type === 'optional') return 'none';
  return undefined;
}

/**
 * Rows for `t` at `key`: an object's fields one by one, a list's or a map's objects field by field, anything
 * else as one row. `inherited`: an enclosing object has a default, so a field without its own is not required.
 */
function settingRows(t: Schema, key: string, description = '', inherited = false): SettingRow[] {
  const def = defOf(t);
  const said = descriptionOf(t) || description;
  const row = (allowed: string, byDefault: string | undefined): SettingRow => ({
    key,
    allowed,
    byDefault: byDefault ?? (inherited ? '' : '(required)'),
    description: said,
  });
  if (['default', 'prefault', 'optional', 'nullable'].includes(def.type)) {
    const inner = def.innerType as Schema;
    const innerDef = defOf(inner);
    const hasDefault = def.type !== 'optional' && def.type !== 'nullable';
    if (innerDef.type === 'object') return settingRows(inner, key, said, inherited || hasDefault);
    if (isContainerOfObjects(inner)) {
      return [row(allowedOf(t), defaultOf(t)), ...settingRows(inner, key, '', false).slice(1)];
    }
    return [row(allowedOf(t), defaultOf(t))];
  }
  if (def.type === 'object') {
    const shape = def.shape as Record<string, Schema>;
    return Object.entries(shape).flatMap(([k, v]) => settingRows(v, key ? `${key}.${k}` : k, '', inherited));
  }
  if (def.type === 'array' && isContainerOfObjects(t)) {
    return [row(allowedOf(t), undefined), ...settingRows(def.element as Schema, `${key}[]`, '', false)];
  }
  if (def.type === 'record' && isContainerOfObjects(t)) {
    return [
      row(allowedOf(t), undefined),
      ...settingRows(def.valueType as Schema, `${key}.<name>`, '', false),
    ];
  }
  return [row(allowedOf(t), undefined)];
}

/** A list or map whose items are objects: documented field by field. */
function isContainerOfObjects(t: Schema): boolean {
  const def = defOf(t);
  const item = def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
  return item !== undefined && defOf(item as Schema).type === 'object';
}

function settingsTable(prefixes?: string[]): string {
  const rows = settingRows(StageConfig, '').filter(
    (r) =>
      !prefixes ||
      prefixes.some((p) => r.key === p || r.key.startsWith(`${p}.`) || r.key.startsWith(`${p}[]`)),
  );
  return [
    '| key | allowed | default | description |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${code(r.key)} | ${r.allowed} | ${r.byDefault} | ${r.description} |`),
  ].join('\n');
}

/** Every EventBridge rule the stack can create, forwarding rules included, as docs/EMERGENCY.md lists them. */
/** The concurrency the stack reserves (the registry's sum) and the unreserved quota a deploy needs. */
function concurrency(): string {
  const reserved = registry.reduce((sum, e) => sum + e.deployment.reservedConcurrency, 0);
  return [
    `  the functions reserve ${reserved} concurrent executions between them (the sum of`,
    '  `reservedConcurrency` over the registry, `functions/index.ts`; at most `RESERVED_CONCURRENCY_CAP`,',
    `  ${RESERVED_CONCURRENCY_CAP}), and Lambda refuses a reservation that leaves fewer than 100 unreserved`,
    '  ([Lambda concurrency](https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)).',
    `  So the region's unreserved concurrency must be at least ${reserved + 100} before the deploy.`,
  ].join('\n');
}

function emergencyRules(): string {
  const own = registry.flatMap(({ deployment }) => rulesOf(deployment));
  const forwarded = registry.find((e) => e.name === FORWARDED_FUNCTION);
  const forwarding = forwarded
    ? ruleNames('global-events-forward', patternsOf(forwarded.deployment).length)
    : [];
  return [...own, ...forwarding]
    .sort()
    .map((r) => `- \`${r}\``)
    .join('\n');
}

/** The IAM actions each stage's role holds: what the function declares there (runtime, gather, executors). */
async function iamActions(name: string): Promise<string> {
  const entry = registry.find((e) => e.name === name);
  if (!entry) throw new Error(`no function ${name} in the registry`);
  const rows = await Promise.all(
    Object.entries(stages).map(async ([stage, raw]) => {
      const actions = [...(await entry.permissions(parseStageConfig(stage, raw)))].sort();
      return `| ${stage} | ${actions.map(code).join(', ')} |`;
    }),
  );
  return ['| stage | IAM actions of its role |', '|---|---|', ...rows].join('\n');
}

/** Every generated block, by name. */
export async function generatedBlocks(): Promise<Record<string, string>> {
  const iam = await Promise.all(registry.map(async ({ name }) => [`iam:${name}`, await iamActions(name)]));
  return {
    ...Object.fromEntries(iam),
    rules: rulesTable(),
    'invoke-local': invokeLocal(),
    settings: settingsTable(),
    'emergency-rules': emergencyRules(),
    concurrency: concurrency(),
    'deploy-output': deployOutput(),
    cost: costTable(),
    'cloudtrail-detections': detectionsTable(),
    ...Object.fromEntries(
      registry.flatMap(({ name, settings }) => [
        // Its own keys, from its settings declaration (its settings.ts, in the registry).
        [`settings:${name}`, settingsTable(Object.keys(settings.shape))],
        [`trigger:${name}`, functionTrigger(name)],
      ]),
    ),
  };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const block = (name: string) =>
  new RegExp(
    // An empty block (markers just added) has no line of its own before the closing marker.
    // A block inside a list item keeps its closing marker's indentation.
    `(<!-- generated:${escapeRegExp(name)} -->\\n)([\\s\\S]*?)\\n?([ \\t]*<!-- /generated:${escapeRegExp(name)} -->)`,
  );

/** The content of a document's block, or undefined when its markers are missing. */
export function documentedBlock(doc: string, name: string): string | undefined {
  return block(name).exec(doc)?.[2];
}

/** The names of every block a document holds, in order. */
export function blockNames(doc: string): string[] {
  return [...doc.matchAll(/<!-- generated:([\w:-]+) -->/g)].map((m) => m[1] as string);
}

/** The document with each of its blocks rewritten; a block whose markers are missing is an error. */
export function withGenerated(doc: string, names: string[], blocks: Record<string, string>): string {
  return names.reduce((text, name) => {
    const content = blocks[name];
    if (content === undefined) throw new Error(`no generator for the block ${name}`);
    if (!block(name).test(text)) throw new Error(`the markers of the block ${name} are missing`);
    return text.replace(
      block(name),
      (_m, open: string, _old: string, close: string) => `${open}${content}\n${close}`,
    );
  }, doc);
}
