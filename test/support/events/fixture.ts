import { loadFixture } from '../../../tools/local/events.ts';

/**
 * The overrides every EventBridge event takes: the envelope fields a function's scope, idempotency and
 * ordering read (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html).
 */
export interface EnvelopeOverrides {
  /** The EventBridge event id: a new one makes another delivery of the same occurrence. */
  id?: string;
  account?: string;
  region?: string;
  time?: string;
  resources?: string[];
}

/** A fixture under `events/<fn>/` as a fresh object: parsed from its file on each call, so a test may change it. */
export function fromFixture<T>(fn: string, name: string): T {
  return loadFixture<T>(`${fn}/${name.endsWith('.json') || name.endsWith('.jsonc') ? name : `${name}.json`}`);
}

interface Envelope {
  id: string;
  account: string;
  region: string;
  time: string;
  resources: string[];
}

/** The envelope overrides set on `event`, and only those. */
export function withEnvelope<E extends Envelope>(event: E, overrides: EnvelopeOverrides): E {
  if (overrides.id !== undefined) event.id = overrides.id;
  if (overrides.account !== undefined) event.account = overrides.account;
  if (overrides.region !== undefined) event.region = overrides.region;
  if (overrides.time !== undefined) event.time = overrides.time;
  if (overrides.resources !== undefined) event.resources = overrides.resources;
  return event;
}

/**
 * The same occurrence as another EventBridge event: a copy with a new envelope id and nothing else
 * changed (a forwarding rule's copy, or a second rule's), which idempotency on the id alone would miss.
 */
export function anotherDeliveryOf<E extends { id: string }>(event: E): E {
  const copy = structuredClone(event);
  copy.id = crypto.randomUUID();
  return copy;
}
