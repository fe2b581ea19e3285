import type { Signal } from '#shared/domain/signal.ts';
import type { __TYPE__Config } from './settings.ts';
import type { __TYPE__Facts } from './signal.ts';

/** The reads gather makes: none yet (add each call's IAM action here and its statement in deployment.ts). */
export const gatherPermissions = [] as const;

export type __TYPE__Gathered = Record<string, never>;

/** Read-only: nothing beyond the event yet. */
export async function gather__TYPE__(_input: {
  signal: Signal;
  facts: __TYPE__Facts;
  config: __TYPE__Config;
}): Promise<__TYPE__Gathered> {
  return {};
}
