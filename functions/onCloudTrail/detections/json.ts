import { truncated } from '#shared/domain/text.ts';

/**
 * Reading untrusted JSON (request parameters, response elements) without trusting its shape: every
 * accessor answers undefined or empty for anything unexpected, never throws.
 */

export type Json = unknown;
export type Obj = Record<string, Json>;

export const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const field = (v: Json, key: string): Json => (isObj(v) ? v[key] : undefined);
export const str = (v: Json): string | undefined => (typeof v === 'string' ? v : undefined);
/** EC2 records wrap lists as `{ items: [...] }`; other services use plain arrays or one object. */
export function list(v: Json): Json[] {
  if (Array.isArray(v)) return v;
  const items = field(v, 'items');
  if (Array.isArray(items)) return items;
  return isObj(v) && Object.keys(v).length > 0 && items === undefined ? [v] : [];
}
/** One value or several, as IAM policy elements and request headers allow. */
export const values = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);

/** A policy document as CloudTrail logs it: an object, or a JSON (sometimes URL-encoded) string. */
export function policyDocument(v: Json): Obj | undefined {
  if (isObj(v)) return v;
  const s = str(v);
  if (s === undefined) return undefined;
  for (const text of [s, safeDecode(s)]) {
    try {
      const parsed: Json = JSON.parse(text ?? '');
      if (isObj(parsed)) return parsed;
    } catch {
      // not JSON in this form; try the next
    }
  }
  return undefined;
}
function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
export const statements = (doc: Obj | undefined): Obj[] => list(doc?.Statement).filter(isObj);
/** JSON of a statement for a page line: escaped, so nothing in it can break the page. */
export const excerpt = (v: Json) => {
  return truncated(JSON.stringify(v) ?? '', 1000);
};
