import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import {
  aws,
  compactReport,
  type Json,
  parentOf,
  run,
  SEED,
  setOwn,
  type Verdict,
  violation,
} from '../support/handlerFuzz.ts';
import { encodingFailure, type JsonPath, LONE_SURROGATES, stringsIn } from '../support/unicode.ts';

/** Every call made to any mocked client since the last reset, with its input. */
function sdkCalls(): { command: string; input: unknown }[] {
  return aws.stubs.flatMap((m) =>
    m.calls().map((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: unknown };
      return { command: command.constructor.name, input: command.input };
    }),
  );
}

/**
 * What goes into one string of a fixture: an unpaired surrogate, or a run of a valid astral character
 * (a surrogate pair each), so that text the functions cut to a length shows whether a cut splits a pair.
 */
interface Breakage {
  insert: string;
  /** The insert is an unpaired surrogate: the schema must refuse it by the field's name. */
  lone: boolean;
  /** Replace the whole string, or insert at this code-unit offset (clamped to its length). */
  replace: boolean;
  at: number;
}

const breakage: fc.Arbitrary<Breakage> = fc.oneof(
  fc.record({
    insert: fc.constantFrom<string>(...LONE_SURROGATES),
    lone: fc.constant(true),
    replace: fc.boolean(),
    at: fc.nat({ max: 4096 }),
  }),
  fc.record({
    insert: fc.integer({ min: 1, max: 1100 }).map((n) => '\u{1F4A5}'.repeat(n)),
    lone: fc.constant(false),
    replace: fc.boolean(),
    at: fc.nat({ max: 4096 }),
  }),
);

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;

const broken = (text: string, b: Breakage): string => {
  if (b.replace) return b.insert;
  // Between two code points: the fixture's own pairs stay whole.
  let at = Math.min(b.at, text.length);
  if (isHighSurrogate(text.charCodeAt(at - 1))) at--;
  return `${text.slice(0, at)}${b.insert}${text.slice(at)}`;
};

/** The fixture with the one string at `path` broken: a value, or the key that ends the path (renamed in place). */
function withSurrogate(fixture: Json, path: JsonPath, isKey: boolean, b: Breakage): unknown {
  const event = structuredClone(fixture) as unknown;
  const parent = parentOf(event, path);
  const key = path.at(-1);
  if (!parent || key === undefined) return event;
  if (!isKey) {
    setOwn(parent, key, broken(String(parent[key]), b));
    return event;
  }
  // Rebuilt in order, so only the one key changes.
  const entries = Object.entries(parent).map(([k, v]) => [k === key ? broken(k, b) : k, v] as const);
  for (const k of Object.keys(parent)) delete parent[k];
  for (const [k, v] of entries) setOwn(parent, k, v);
  return event;
}

/**
 * Why a handler's verdict on a fixture with an unpaired surrogate in the string at `path` breaks the
 * promise, or undefined. Refused: by InvalidEventError, naming that field (a key: the object that holds
 * it, or the field it no longer fills), acting on nothing. Handled: nothing it sent to AWS holds the
 * surrogate (SNS's query protocol would throw URIError on every retry, and the page would never go).
 */
function surrogateViolation(
  name: string,
  verdict: Verdict,
  path: JsonPath,
  isKey: boolean,
  lone: boolean,
): string | undefined {
  const calls = sdkCalls();
  if (verdict.resolved) {
    for (const call of calls) {
      const failure = encodingFailure(call.input);
      if (failure) return `handled it, but ${call.command} would fail: ${failure}`;
    }
    return undefined;
  }
  const general = violation(name, verdict);
  // Valid text may be refused by any rule (too long, another field no longer matches), as long as named.
  if (general || !lone) return general;
  const issues = (verdict.error as Error & { issues: { path: string }[] }).issues;
  const field = path.join('.');
  const named = isKey ? [path.slice(0, -1).join('.') || '(event)', field] : [field];
  if (!issues.some((i) => named.includes(i.path))) {
    return `refused without naming ${field}: ${issues.map((i) => i.path).join(', ')}`;
  }
  return undefined;
}

describe.each(registry.map((entry) => [entry.name, entry] as const))(
  'unpaired surrogates: %s',
  (name, entry) => {
    it('refuses every string of its fixtures holding an unpaired surrogate by name, or handles it without sending one to AWS', async () => {
      // Arrange
      const handler = await entry.loadHandler();
      const fixtures = listFixtures().filter((f) => f.startsWith(`${name}/`) && !f.includes('/invalid/'));
      let strings = 0;
      let refused = 0;
      // Act: every string of every handled fixture (values and keys), one at a time, a few breakages each.
      for (const file of fixtures) {
        const fixture = loadFixture<Json>(file);
        // A state the rules never route is refused whole (test/unit/schemas.unicode.test.ts lists them).
        if (!(await run(handler, fixture)).resolved) continue;
        for (const { path, isKey } of stringsIn(fixture)) {
          strings++;
          await fc.assert(
            fc.asyncProperty(breakage, async (b) => {
              const verdict = await run(handler, withSurrogate(fixture, path, isKey, b));
              if (!verdict.resolved) refused++;
              // Assert
              const problem = surrogateViolation(name, verdict, path, isKey, b.lone);
              expect(problem, `${file} at ${path.join('.')}`).toBeUndefined();
            }),
            { seed: SEED, numRuns: 4, endOnFailure: true, reporter: compactReport },
          );
        }
      }
      // The walk reached the fixtures' strings, and the schemas refused some.
      expect(strings).toBeGreaterThan(fixtures.length);
      expect(refused).toBeGreaterThan(0);
    }, 300_000);
  },
);
