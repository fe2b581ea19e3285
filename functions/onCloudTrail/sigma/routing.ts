import type { CompiledRule, Condition, Selection } from './rule.ts';

/**
 * The calls a rule can match, for the EventBridge pattern: the exact `eventName` values its condition
 * requires, or 'any' when the condition can hold without one (a `not`, a wildcard, a selection without
 * eventName), which the shared pattern cannot route.
 */
type Calls = Set<string> | 'any';

function ofSelection(selection: Selection): Calls {
  const names = new Set<string>();
  for (const map of selection) {
    const named = map.find((t) => t.path.length === 1 && t.path[0] === 'eventName' && t.compare === 'equals');
    const values = named?.values ?? [];
    if (!named || (named.all && values.length > 1)) return 'any';
    for (const v of values) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9_]{1,128}$/.test(v)) return 'any';
      names.add(v);
    }
  }
  return names;
}

const union = (sets: Calls[]): Calls =>
  sets.some((s) => s === 'any') ? 'any' : new Set(sets.flatMap((s) => [...(s as Set<string>)]));

/** A conjunction needs only one bounded part: the smallest bounds it. */
const bounded = (sets: Calls[]): Calls =>
  sets.filter((s): s is Set<string> => s !== 'any').sort((a, b) => a.size - b.size)[0] ?? 'any';

function calls(condition: Condition, selections: Record<string, Selection>): Calls {
  const named = (name: string) => {
    const s = selections[name];
    return s ? ofSelection(s) : 'any';
  };
  switch (condition.op) {
    case 'and':
      return bounded(condition.of.map((c) => calls(c, selections)));
    case 'or':
      return union(condition.of.map((c) => calls(c, selections)));
    case 'not':
      return 'any';
    case 'ref':
      return named(condition.name);
    case 'one-of':
      return union(condition.names.map(named));
    case 'all-of':
      return bounded(condition.names.map(named));
  }
}

export function routedCalls(condition: Condition, selections: CompiledRule['selections']): string[] | 'any' {
  const found = calls(condition, selections);
  return found === 'any' ? 'any' : [...found].sort();
}
