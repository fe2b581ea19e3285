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

/**
 * How far ahead of this function's clock an event may be stamped (clock skew). State timestamps order
 * an incident's deliveries: one stamped in the future would make every real change after it look stale.
 */
export const MAX_FUTURE_SKEW_MINUTES = 5;

/** Why an event timestamp cannot be trusted to order events, or undefined. Past times are fine (late deliveries). */
export function timestampProblem(value: string, nowMs: number): string | undefined {
  const ms = parseAwsTimestamp(value);
  if (ms === undefined) return 'is not a readable timestamp';
  if (ms > nowMs + MAX_FUTURE_SKEW_MINUTES * 60_000) {
    return `is more than ${MAX_FUTURE_SKEW_MINUTES} minutes in the future (now is ${new Date(nowMs).toISOString()})`;
  }
  return undefined;
}

/**
 * The latest time a stored state timestamp may hold: a later one (written before events were bounded,
 * or by a skewed clock) is treated as absent, so it cannot silence an alarm until it expires.
 */
export const futureHorizonMs = (nowMs: number = Date.now()): number =>
  nowMs + MAX_FUTURE_SKEW_MINUTES * 60_000;
