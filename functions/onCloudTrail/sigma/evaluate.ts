import { BlockList, isIP } from 'node:net';
import type { CompiledRule, Condition, FieldTest, Selection } from './rule.ts';

/**
 * Sigma's matching semantics for the subset compile.ts accepts, on a CloudTrail record's `detail`.
 * Pure and bounded: a record value longer than MAX_VALUE_LENGTH matches no value test (only `null` and
 * `exists` read it), so a regular expression never runs on more than that.
 * - Plain values compare whole and case-insensitively; `*` is any run of characters and `?` one, `\*`,
 *   `\?` and `\\` are the characters themselves.
 * - A list of values means any one (`|all`: every one); a list of maps means any map.
 * - `null` matches a missing or null field; `|exists: true|false` likewise tests presence.
 * - A field holding a list matches when one of its items does; numbers and booleans compare as text.
 * - `|re` is a JavaScript regular expression, case-sensitive (Sigma's default), not PCRE.
 */

export const MAX_VALUE_LENGTH = 20_000;

type Json = unknown;

function lookup(record: Json, path: readonly string[]): Json {
  let at: Json = record;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = Object.hasOwn(at, key) ? (at as Record<string, Json>)[key] : undefined;
  }
  return at;
}

/** The record's values a test compares: a scalar, or each scalar item of a list. */
function scalars(value: Json): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((v) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : [],
  );
}

const PATTERNS = new Map<string, RegExp>();

/** A Sigma wildcard value as an anchored, case-insensitive expression (cached: rules are few and fixed). */
function wildcard(value: string, compare: 'equals' | 'contains' | 'startswith' | 'endswith'): RegExp {
  const key = `${compare}\u0000${value}`;
  const cached = PATTERNS.get(key);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    const next = value[i + 1];
    if (c === '\\' && (next === '*' || next === '?' || next === '\\')) {
      source += `\\${next}`;
      i++;
    } else if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else source += c.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
  }
  const head = compare === 'equals' || compare === 'startswith' ? '^' : '';
  const tail = compare === 'equals' || compare === 'endswith' ? '$' : '';
  const pattern = new RegExp(`${head}${source}${tail}`, 'i');
  PATTERNS.set(key, pattern);
  return pattern;
}

function regex(value: string): RegExp {
  const key = `re\u0000${value}`;
  const cached = PATTERNS.get(key) ?? new RegExp(value);
  PATTERNS.set(key, cached);
  return cached;
}

function inCidr(ip: string, cidr: string): boolean {
  const family = isIP(ip);
  const [base, prefix] = cidr.split('/');
  const baseFamily = isIP(base ?? '');
  if (family === 0 || family !== baseFamily) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(base as string, Number(prefix), type);
  return list.check(ip, type);
}

function valueMatches(test: FieldTest, expected: string | boolean | null, present: Json): boolean {
  if (test.compare === 'exists') return (present !== undefined && present !== null) === expected;
  if (expected === null) return present === undefined || present === null;
  const wanted = String(expected);
  return scalars(present).some((actual) => {
    if (actual.length > MAX_VALUE_LENGTH) return false;
    switch (test.compare) {
      case 're':
        return regex(wanted).test(actual);
      case 'cidr':
        return inCidr(actual, wanted);
      case 'exists':
        return false;
      default:
        return wildcard(wanted, test.compare).test(actual);
    }
  });
}

export function fieldMatches(test: FieldTest, record: Json): boolean {
  const present = lookup(record, test.path);
  const one = (v: string | boolean | null) => valueMatches(test, v, present);
  return test.all ? test.values.every(one) : test.values.some(one);
}

export const selectionMatches = (selection: Selection, record: Json): boolean =>
  selection.some((map) => map.every((test) => fieldMatches(test, record)));

function holds(condition: Condition, rule: CompiledRule, record: Json): boolean {
  const named = (name: string) => {
    const selection = rule.selections[name];
    return selection !== undefined && selectionMatches(selection, record);
  };
  switch (condition.op) {
    case 'and':
      return condition.of.every((c) => holds(c, rule, record));
    case 'or':
      return condition.of.some((c) => holds(c, rule, record));
    case 'not':
      return !holds(condition.of, rule, record);
    case 'ref':
      return named(condition.name);
    case 'one-of':
      return condition.names.some(named);
    case 'all-of':
      return condition.names.every(named);
  }
}

/** Whether the rule matches the record's `detail` (the CloudTrail record itself). */
export const ruleMatches = (rule: CompiledRule, record: Json): boolean => holds(rule.condition, rule, record);
