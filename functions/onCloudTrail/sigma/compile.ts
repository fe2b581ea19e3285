import { isIP } from 'node:net';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { CloudTrailEvent } from '../schema.ts';
import { ConditionError, parseCondition } from './condition.ts';
import { routedCalls } from './routing.ts';
import {
  type CompiledRule,
  type FieldTest,
  type Selection,
  SIGMA_LEVELS,
  SIGMA_MODIFIERS,
  type SigmaLevel,
} from './rule.ts';

/**
 * A Sigma rule file (YAML) to the rule the function runs, at package time only (it reads YAML; the
 * function reads the compiled JSON). Anything outside the documented subset is an error naming the file,
 * the line and the construct; a field the function never sees is a warning.
 */

export interface SigmaProblem {
  file: string;
  line: number;
  message: string;
}
export type Compiled = { rule?: CompiledRule; errors: SigmaProblem[]; warnings: SigmaProblem[] };

const MAX_FILE_CHARACTERS = 64_000;
const MAX_VALUE_CHARACTERS = 1_000;
const MAX_VALUES = 200;
const MAX_SELECTIONS = 50;
const FIELD_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;
/** The record fields the function keeps (schema.ts): a rule on another field can never match. */
const RECORD_FIELDS = new Set(Object.keys(CloudTrailEvent.shape.detail.shape));
/** A quantified group holding a quantifier: the shape of catastrophic backtracking, refused. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]/;

class RuleError extends Error {
  constructor(
    readonly node: Node | undefined,
    message: string,
  ) {
    super(message);
  }
}

const scalarText = (node: Node | undefined, what: string): string => {
  if (!isScalar(node) || typeof node.value !== 'string' || node.value.length === 0) {
    throw new RuleError(node, `${what} must be a non-empty string`);
  }
  if (node.value.length > MAX_VALUE_CHARACTERS) throw new RuleError(node, `${what} is too long`);
  return node.value;
};

const stringList = (node: Node | undefined, what: string): string[] => {
  if (node === undefined) return [];
  if (!isSeq(node)) throw new RuleError(node, `${what} must be a list`);
  return node.items.map((item) => scalarText(item as Node, what));
};

function fieldValue(node: Node, compare: FieldTest['compare']): string | boolean | null {
  if (!isScalar(node)) throw new RuleError(node, 'a value must be a string, number, boolean or null');
  const v = node.value;
  if (compare === 'exists') {
    if (typeof v !== 'boolean') throw new RuleError(node, 'modifier exists takes true or false');
    return v;
  }
  if (v === null) return null;
  if (typeof v === 'boolean') throw new RuleError(node, 'a boolean value needs the exists modifier');
  const text = String(v);
  if (text.length > MAX_VALUE_CHARACTERS) throw new RuleError(node, 'value is too long');
  if (compare === 're') {
    if (NESTED_QUANTIFIER.test(text))
      throw new RuleError(node, `re: nested quantifier in "${text}" (catastrophic backtracking)`);
    if (/\\[1-9]|\\k</.test(text))
      throw new RuleError(node, `re: backreferences are not supported in "${text}"`);
    try {
      new RegExp(text);
    } catch {
      throw new RuleError(node, `re: "${text}" is not a JavaScript regular expression`);
    }
  }
  if (compare === 'cidr') {
    const [base, prefix, extra] = text.split('/');
    const family = isIP(base ?? '');
    const bits = Number(prefix);
    if (
      family === 0 ||
      extra !== undefined ||
      !/^\d{1,3}$/.test(prefix ?? '') ||
      bits > (family === 4 ? 32 : 128)
    ) {
      throw new RuleError(node, `cidr: "${text}" is not a CIDR block`);
    }
  }
  return text;
}

function fieldTest(key: Node, value: Node, warn: (node: Node, message: string) => void): FieldTest {
  const [field, ...modifiers] = scalarText(key, 'a field name').split('|');
  const path = (field ?? '').split('.');
  if (!path.every((s) => FIELD_SEGMENT.test(s)))
    throw new RuleError(key, `field "${field}" is not a CloudTrail JSON path`);
  if (!RECORD_FIELDS.has(path[0] as string))
    warn(key, `field "${field}" matches no CloudTrail field the function reads`);
  let compare: FieldTest['compare'] = 'equals';
  let all = false;
  for (const m of modifiers) {
    if (!(SIGMA_MODIFIERS as readonly string[]).includes(m))
      throw new RuleError(key, `unsupported modifier "${m}"`);
    if (m === 'all') all = true;
    else if (compare !== 'equals')
      throw new RuleError(key, `modifiers "${compare}" and "${m}" cannot be combined`);
    else compare = m as FieldTest['compare'];
  }
  const items = isSeq(value) ? (value.items as Node[]) : [value];
  if (items.length === 0 || items.length > MAX_VALUES)
    throw new RuleError(value, `field "${field}" needs 1 to ${MAX_VALUES} values`);
  return { path, compare, all, values: items.map((item) => fieldValue(item, compare)) };
}

function selection(node: Node, warn: (node: Node, message: string) => void): Selection {
  const maps = isSeq(node) ? (node.items as Node[]) : [node];
  return maps.map((map) => {
    if (!isMap(map))
      throw new RuleError(map, 'keyword searches (a list of plain values) are not supported; name a field');
    return map.items.map((pair) => fieldTest(pair.key as Node, pair.value as Node, warn));
  });
}

const get = (map: YAMLMap, key: string): Node | undefined => map.get(key, true) as Node | undefined;

function rule(doc: YAMLMap, file: string, warn: (node: Node, message: string) => void): CompiledRule {
  const title = scalarText(get(doc, 'title'), 'title');
  const id = scalarText(get(doc, 'id'), 'id');
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id))
    throw new RuleError(get(doc, 'id'), 'id must be a UUID (letters, digits and -)');
  const levelNode = get(doc, 'level');
  const level = scalarText(levelNode, 'level');
  if (!(SIGMA_LEVELS as readonly string[]).includes(level))
    throw new RuleError(levelNode, `level must be one of ${SIGMA_LEVELS.join(', ')}`);
  const logsource = get(doc, 'logsource');
  if (!isMap(logsource) || logsource.get('product') !== 'aws' || logsource.get('service') !== 'cloudtrail') {
    throw new RuleError(logsource, 'logsource must be product aws, service cloudtrail');
  }
  const detection = get(doc, 'detection');
  if (!isMap(detection)) throw new RuleError(detection, 'detection must be a map');
  const selections: Record<string, Selection> = {};
  let conditionNode: Node | undefined;
  for (const pair of detection.items) {
    const name = scalarText(pair.key as Node, 'a selection name');
    if (name === 'condition') conditionNode = pair.value as Node;
    else if (name === 'timeframe') throw new RuleError(pair.key as Node, 'unsupported construct "timeframe"');
    else selections[name] = selection(pair.value as Node, warn);
  }
  if (Object.keys(selections).length > MAX_SELECTIONS)
    throw new RuleError(detection, `more than ${MAX_SELECTIONS} selections`);
  if (isSeq(conditionNode))
    throw new RuleError(conditionNode, 'a list of conditions is not supported; join them with "or"');
  let condition: CompiledRule['condition'];
  try {
    condition = parseCondition(scalarText(conditionNode, 'condition'), Object.keys(selections));
  } catch (error) {
    if (error instanceof ConditionError) throw new RuleError(conditionNode, `condition: ${error.message}`);
    throw error;
  }
  const calls = routedCalls(condition, selections);
  if (calls === 'any') {
    throw new RuleError(
      conditionNode,
      'cannot be routed: the condition must require an eventName named exactly (no wildcard or modifier)',
    );
  }
  return {
    id,
    title,
    level: level as SigmaLevel,
    tags: stringList(get(doc, 'tags'), 'tags'),
    references: stringList(get(doc, 'references'), 'references'),
    file,
    calls,
    selections,
    condition,
  };
}

/** One rule file's text to its rule, or the errors that keep it out of the stack. */
export function compileSigmaRule(text: string, file: string): Compiled {
  const lines = new LineCounter();
  const errors: SigmaProblem[] = [];
  const warnings: SigmaProblem[] = [];
  const at = (node: Node | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
  if (text.length > MAX_FILE_CHARACTERS) {
    return {
      errors: [{ file, line: 1, message: `longer than ${MAX_FILE_CHARACTERS} characters` }],
      warnings,
    };
  }
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  for (const e of doc.errors)
    errors.push({ file, line: e.linePos?.[0].line ?? 1, message: `YAML: ${e.message.split('\n')[0]}` });
  if (errors.length > 0) return { errors, warnings };
  if (!isMap(doc.contents))
    return { errors: [{ file, line: 1, message: 'a Sigma rule must be a YAML map' }], warnings };
  try {
    const compiled = rule(doc.contents, file, (node, message) =>
      warnings.push({ file, line: at(node), message }),
    );
    return { rule: compiled, errors, warnings };
  } catch (error) {
    if (!(error instanceof RuleError)) throw error;
    return { errors: [{ file, line: at(error.node), message: error.message }], warnings };
  }
}
