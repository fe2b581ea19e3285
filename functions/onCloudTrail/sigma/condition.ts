import type { Condition } from './rule.ts';

/**
 * Sigma's condition grammar, the subset this project runs: `and`, `or`, `not`, parentheses, search
 * identifiers, and `1 of x*`, `all of x*`, `1 of them`, `all of them`. Precedence as the Sigma
 * specification gives it: `not` binds tighter than `and`, which binds tighter than `or`. Pipes
 * (aggregations, `| count()`) and `near` are not supported and are reported by name.
 */

export class ConditionError extends Error {}

const TOKEN = /\s*(\(|\)|[A-Za-z0-9_*?-]+|\S)/y;
const MAX_CONDITION_LENGTH = 2_000;

function tokenize(text: string): string[] {
  if (text.length > MAX_CONDITION_LENGTH) {
    throw new ConditionError(`condition is longer than ${MAX_CONDITION_LENGTH} characters`);
  }
  const tokens: string[] = [];
  let end = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    tokens.push(m[1] as string);
    end = TOKEN.lastIndex;
  }
  // A failed sticky match resets lastIndex: what is left is read from the last token's end.
  if (/\S/.test(text.slice(end))) throw new ConditionError('condition cannot be read');
  return tokens;
}

/** The selections a `x*` pattern names; `them` is every selection not starting with `_` (Sigma's rule). */
function expand(pattern: string, names: readonly string[]): string[] {
  if (pattern === 'them') return names.filter((n) => !n.startsWith('_'));
  const glob = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  const found = names.filter((n) => glob.test(n));
  if (found.length === 0) throw new ConditionError(`"${pattern}" names no selection`);
  return found;
}

/** Parses a condition against the rule's selection names; throws ConditionError naming the construct. */
export function parseCondition(text: string, names: readonly string[]): Condition {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at]?.toLowerCase();
  const take = () => tokens[at++];

  function primary(): Condition {
    const t = take();
    if (t === undefined) throw new ConditionError('condition ends too early');
    const lower = t.toLowerCase();
    if (t === '(') {
      const inner = or();
      if (take() !== ')') throw new ConditionError('a parenthesis is not closed');
      return inner;
    }
    if (lower === 'not') return { op: 'not', of: primary() };
    if (lower === '1' || lower === 'all') {
      if (peek() !== 'of') throw new ConditionError(`"${t}" must be followed by "of"`);
      take();
      const pattern = take();
      if (pattern === undefined) throw new ConditionError(`"${t} of" names nothing`);
      return { op: lower === 'all' ? 'all-of' : 'one-of', names: expand(pattern, names) };
    }
    if (t === '|') throw new ConditionError('aggregation (| count(), | near) is not supported');
    if (/^\d+$/.test(t)) throw new ConditionError(`"${t} of" is not supported (only "1 of" and "all of")`);
    if (['and', 'or', ')', 'of', 'near'].includes(lower)) throw new ConditionError(`unexpected "${t}"`);
    if (/[*?]/.test(t)) throw new ConditionError(`"${t}": a wildcard needs "1 of" or "all of"`);
    if (!names.includes(t)) throw new ConditionError(`"${t}" names no selection`);
    return { op: 'ref', name: t };
  }
  function and(): Condition {
    const of = [primary()];
    while (peek() === 'and') {
      take();
      of.push(primary());
    }
    return of.length === 1 ? (of[0] as Condition) : { op: 'and', of };
  }
  function or(): Condition {
    const of = [and()];
    while (peek() === 'or') {
      take();
      of.push(and());
    }
    return of.length === 1 ? (of[0] as Condition) : { op: 'or', of };
  }

  const condition = or();
  if (at < tokens.length) {
    const t = tokens[at] as string;
    throw new ConditionError(
      t === '|' ? 'aggregation (| count(), | near) is not supported' : `unexpected "${t}"`,
    );
  }
  return condition;
}
