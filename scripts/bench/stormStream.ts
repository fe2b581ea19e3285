/** The storm's stream: a fixture made into incident `n` of an account of its own, and a flapping alarm. */
import { createHash } from 'node:crypto';

export type Event = Record<string, unknown>;

export const FIXTURE_ACCOUNT = '123456789012';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

const freshId = (salt: string, n: number, id: string) => {
  const h = createHash('sha256').update(`${salt}:${n}:${id.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/**
 * The fixture as incident `n`: another account (every ARN and incident key names it) and fresh ids
 * (event ids, CloudTrail event ids, anomaly ids), so no two incidents share a record. The ids a
 * delivery is deduplicated by (the EventBridge `id`, CloudTrail's `detail.eventID`) are made fresh
 * whatever their form: several fixtures carry ids that are no UUID ('test-03', AWS's sample
 * 'ab32977c-...-fgh4596f0709'), and the storm's incidents share one state table, while each account's
 * stack has a table of its own. Left as they were, the second incident of such a fixture was answered
 * from the first's stored result and paged nothing (435 pages where the calibration expected 441).
 */
export function asIncident(event: Event, n: number, salt: string): Event {
  const account = String(100_000_000_000 + n);
  if (account.length !== 12) throw new Error(`incident ${n} has no 12-digit account`);
  const text = JSON.stringify(event)
    .replaceAll(FIXTURE_ACCOUNT, account)
    .replace(UUID, (id) => freshId(salt, n, id));
  const incident = JSON.parse(text) as Event;
  if (typeof incident.id === 'string') incident.id = freshId(salt, n, `event:${incident.id}`);
  const detail = incident.detail as { eventID?: unknown } | undefined;
  if (typeof detail?.eventID === 'string') detail.eventID = freshId(salt, n, `record:${detail.eventID}`);
  return incident;
}

/** ALARM, OK one minute later, ALARM two minutes later: inside any suppression window. */
export function flap(alarm: Event): Event[] {
  const detail = alarm.detail as {
    state: { timestamp: string; value: string };
    previousState: { value: string };
  };
  const at = (minutes: number) =>
    new Date(Date.parse(detail.state.timestamp) + minutes * 60_000).toISOString().replace('Z', '+0000');
  const step = (minutes: number, value: string, previous: string, k: number): Event => {
    const e = structuredClone(alarm);
    const d = e.detail as typeof detail;
    e.id = createHash('sha256')
      .update(`${String(alarm.id)}:${k}`)
      .digest('hex')
      .slice(0, 36);
    d.state.value = value;
    d.state.timestamp = at(minutes);
    d.previousState.value = previous;
    return e;
  };
  return [step(0, 'ALARM', 'OK', 0), step(1, 'OK', 'ALARM', 1), step(2, 'ALARM', 'OK', 2)];
}
