import type { Intent } from '#shared/domain/intent.ts';
import type { ResourceRef } from '#shared/domain/signal.ts';

/** An ARN's account field: twelve digits (AWS-owned ARNs, such as managed documents, name none or `aws`). */
const ARN = /\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):[^\s,;"']*/g;

/** Prose for people (why an action is asked for), which may quote another account's ARN as evidence. */
const PROSE = new Set(['reason', 'tagReason']);

/** Every string an action acts with (an intent's fields, nested lists and records), its prose left out. */
function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) if (!PROSE.has(key)) stringsOf(v, out);
  }
  return out;
}

/**
 * The first ARN an action names that belongs to another account than the event's, if any: no action
 * touches a resource of an account other than the one its event came from (docs/ORGANIZATION.md). The
 * runtime asks before every mutating intent (shared/runtime/pipeline.ts), in one place, whatever planned it.
 */
export function foreignArnOf(
  intent: Intent,
  signal: { account: string; resources: readonly ResourceRef[] },
): { arn: string; account: string } | undefined {
  const eventAccount = signal.account;
  // What the action names, and what its event says it is about.
  const named = [...stringsOf(intent), ...signal.resources.flatMap((r) => (r.arn ? [r.arn] : []))];
  for (const text of named) {
    for (const [arn, account] of text.matchAll(ARN)) {
      if (account !== undefined && account !== eventAccount) return { arn: arn.slice(0, 256), account };
    }
  }
  return undefined;
}
