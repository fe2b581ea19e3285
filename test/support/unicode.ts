/**
 * Unpaired UTF-16 surrogates: what the tests put into events, and how they check that nothing an SDK
 * call would send carries one.
 */

/** One of each kind: a lone high, a lone low, and each inside text. */
export const LONE_SURROGATES = ['\uD800', '\uDFFF', 'a\uD83Db', '\uDE00x'] as const;

export type JsonPath = (string | number)[];

/** Every string in a value (object keys included, as `{ key }`), with the path that leads to it. */
export function stringsIn(
  value: unknown,
  path: JsonPath = [],
): { path: JsonPath; text: string; isKey: boolean }[] {
  if (typeof value === 'string') return [{ path, text: value, isKey: false }];
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, [...path, i]));
  return Object.entries(value).flatMap(([key, item]) => [
    { path: [...path, key], text: key, isKey: true },
    ...stringsIn(item, [...path, key]),
  ]);
}

/**
 * What an SDK call whose input holds this value would fail with before it left the process: the query
 * protocol (SNS, SQS, EC2) encodes every key and value with encodeURIComponent, which throws URIError
 * on an unpaired surrogate. Undefined when the input is encodable.
 */
export function encodingFailure(input: unknown): string | undefined {
  // Most inputs are encodable: V8's own check first, the paths only for an input that is not.
  if (allWellFormed(input)) return undefined;
  for (const { path, text } of stringsIn(input)) {
    try {
      encodeURIComponent(text);
    } catch (error) {
      return `${(error as Error).name} at ${path.join('.') || '(input)'}: ${JSON.stringify(text).slice(0, 200)}`;
    }
  }
  return undefined;
}

/**
 * Whether every string in a value (keys included) is well-formed UTF-16, by V8's
 * String.prototype.isWellFormed (ES2024): false exactly when encodeURIComponent would throw URIError.
 */
function allWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return (value as string & { isWellFormed(): boolean }).isWellFormed();
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(allWellFormed);
  return Object.entries(value).every(([key, item]) => allWellFormed(key) && allWellFormed(item));
}

/** Throws the URIError the query protocol would, so a mocked SNS fails where the real one does. */
export function encodeLikeTheQueryProtocol(input: unknown): void {
  for (const { text } of stringsIn(input)) encodeURIComponent(text);
}
