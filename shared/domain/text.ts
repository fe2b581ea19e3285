import { z } from 'zod';

/**
 * Bounds for text taken from events. Whatever passes can be used later without failing half-way: as a
 * DynamoDB key, in a console link (encodeURIComponent throws on a lone surrogate), in an SNS subject,
 * body or message attribute and in the SQS deliveries behind it (no control characters, valid Unicode).
 * Lengths count characters (code points), as AWS does for names and tags.
 */
export interface TextBounds {
  /** At least this many characters (0: may be empty). */
  min?: number;
  max: number;
  /** Free text (reasons, descriptions) may hold tabs and line breaks; names may not. */
  multiline?: boolean;
}

/** Every surrogate paired: the string encodes to UTF-8 and into a URL. */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/** C0 and C1 controls and DEL (tab, LF and CR allowed in free text), and U+FFFE/U+FFFF, which SQS refuses. */
export function hasControlCharacter(s: string, multiline = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (multiline && (c === 0x09 || c === 0x0a || c === 0x0d)) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}

function characters(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Why a string with an unpaired surrogate is refused: it would pass every other check and then fail
 * where it is used (encodeURIComponent throws URIError in SNS's query protocol and in console links;
 * DynamoDB, SNS and SQS want UTF-8), on every retry, so the page would never go out.
 */
export const UNPAIRED_SURROGATE = 'is not valid Unicode (contains an unpaired UTF-16 surrogate)';

/**
 * The check every string of an event schema carries, first and aborting, so the field is refused with
 * one message naming it. One instance, so the schema test can tell that no string schema lacks it.
 */
export const wellFormedUnicode = z.refine<string>(isWellFormed, { message: UNPAIRED_SURROGATE, abort: true });

/**
 * A string taken from an event: valid Unicode, or refused naming the field. Every string schema of an
 * event builds on it (formats add their regex, lengths their bounds).
 */
export function eventString() {
  return z.string().check(wellFormedUnicode);
}

/**
 * The check a record of strings carries instead (tags, dimensions): a key with an unpaired surrogate is
 * reported at the record, so the broken key is not the name of the field that names it; a value under
 * its key.
 */
export const wellFormedEntries = z.superRefine<Record<string, string>>((record, ctx) => {
  for (const [key, value] of Object.entries(record)) {
    // Aborting, like the string check: the bounds that follow would say the same again.
    if (!isWellFormed(key)) {
      ctx.addIssue({ code: 'custom', message: `a key ${UNPAIRED_SURROGATE}`, continue: false });
    } else if (!isWellFormed(value)) {
      ctx.addIssue({ code: 'custom', path: [key], message: UNPAIRED_SURROGATE, continue: false });
    }
  }
});

/**
 * The text cut to at most `limit` UTF-16 units (the unit AWS's API limits count in for tags), ending in
 * `...` when cut, and never between the two halves of a surrogate pair: a valid text stays valid.
 */
export function truncated(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = Math.max(0, limit - 3);
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${text.slice(0, cut)}...`;
}

/** What is wrong with a text for these bounds, or undefined when nothing is. */
export function textProblem(s: string, bounds: TextBounds): string | undefined {
  const { min = 0, max, multiline = false } = bounds;
  // A code point is at most two UTF-16 units: a longer string is too long without counting.
  const n = s.length > 2 * max ? s.length : characters(s);
  if (n < min || n > max) {
    return min > 0 ? `must be ${min} to ${max} characters (is ${n})` : `must be at most ${max} characters`;
  }
  if (!isWellFormed(s)) return UNPAIRED_SURROGATE;
  if (hasControlCharacter(s, multiline)) return 'contains a control character';
  return undefined;
}

/** A zod string within these bounds, failing with one message that says which bound. */
export function boundedText(bounds: TextBounds) {
  return eventString().superRefine((s, ctx) => {
    const problem = textProblem(s, bounds);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** A zod string-to-string record with bounded keys, values and number of entries (tags, dimensions). */
export function boundedRecord(bounds: { maxEntries: number; key: TextBounds; value: TextBounds }) {
  return z
    .record(z.string(), z.string())
    .check(wellFormedEntries)
    .superRefine((record, ctx) => {
      const entries = Object.entries(record);
      if (entries.length > bounds.maxEntries) {
        ctx.addIssue({ code: 'custom', message: `must have at most ${bounds.maxEntries} entries` });
        return;
      }
      for (const [key, value] of entries) {
        const keyProblem = textProblem(key, bounds.key);
        // The key itself may be what is broken: report it at the record, not under its own text.
        if (keyProblem) ctx.addIssue({ code: 'custom', message: `a key ${keyProblem}` });
        const valueProblem = keyProblem ? undefined : textProblem(value, bounds.value);
        if (valueProblem) ctx.addIssue({ code: 'custom', path: [key], message: valueProblem });
      }
    });
}
