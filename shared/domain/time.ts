/**
 * Epoch milliseconds of an AWS timestamp. Event details use several formats (ISO with `Z`,
 * `...+0000` without a colon, RFC 1123): parse them, don't regex them. Undefined when unreadable.
 */
export function parseAwsTimestamp(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const normalized = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(normalized);
  return Number.isNaN(ms) ? undefined : ms;
}
