import { config } from '#shared/config.ts';

/**
 * The state table has one string key `id` (shared with Powertools idempotency) and TTL on `expiration`.
 * Every key starts with the owning function's name, as Powertools' idempotency keys do, so each
 * function's role is limited to its own records with `dynamodb:LeadingKeys` (serverless.yml).
 */
export function stateTable(): string {
  const name = config().stateTableName;
  if (!name)
    throw new Error(
      'STATE_TABLE_NAME is not set: the state table is needed for suppression and the action log',
    );
  return name;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
export const DAY = 86_400;

export function isConditionalFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** The owner of the records this process writes: the deployed function name (`local` outside Lambda). */
export const stateKeyOwner = (): string => config().functionName;

/** The service every deployed name starts with (`ops-autopilot-<stage>-<function>`). */
export const SERVICE = 'ops-autopilot';

/** A state-table key owned by this function: `<function name>#<kind>#<parts...>`. */
export function stateKey(kind: string, ...parts: (string | number)[]): string {
  return [stateKeyOwner(), kind, ...parts].join('#');
}

/**
 * A state-table key the stage's functions share: `ops-autopilot-<stage>#shared#<kind>`. It matches no
 * function's own prefix (`ops-autopilot-<stage>-<function>#`), so each role that needs one is granted
 * exactly that key in serverless.yml's plugin, nothing else of the other functions' records.
 */
export function sharedStateKey(kind: SharedStateKind): string {
  return sharedStateKeyOf(config().stage, kind);
}

/** The prefix of every record a stage's functions share: `ops-autopilot-<stage>#shared`. */
export const sharedStatePrefixOf = (stage: string): string => `${SERVICE}-${stage}#shared`;

/** The shared key of a stage, for the plugin that grants it (it has no function's environment). */
export const sharedStateKeyOf = (stage: string, kind: SharedStateKind): string =>
  `${sharedStatePrefixOf(stage)}#${kind}`;

/** The shared records: the account's hourly stop budget, spent by every function that stops instances. */
export type SharedStateKind = 'stop-budget';

/** What each shared record is read and written with (the stop budget: a read, a conditional put). */
export const SHARED_STATE_ACTIONS: Record<SharedStateKind, string[]> = {
  'stop-budget': ['dynamodb:GetItem', 'dynamodb:PutItem'],
};
