import { AsyncLocalStorage } from 'node:async_hooks';
import { config } from '#shared/config.ts';
import { type SharedStateKind, sharedStateKeyOf } from './sharedRecords.ts';

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

/** Set while approveAction runs an approved action for the function that planned it (actingFor). */
const actingAs = new AsyncLocalStorage<string>();

/**
 * The owner of the records this process writes: the deployed function name (`local` outside Lambda),
 * or, while approveAction executes an approved action, the function that planned it: the action's
 * claims (its start limit, its incident, its rate guard window) are that function's records.
 */
export const stateKeyOwner = (): string => actingAs.getStore() ?? config().functionName;

/** Runs `fn` with the state keys of `ownerFunction` (a deployed function name): see stateKeyOwner. */
export function actingFor<T>(ownerFunction: string, fn: () => Promise<T>): Promise<T> {
  return actingAs.run(ownerFunction, fn);
}

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

// Declared in sharedRecords.ts (no config there, for the plugin); kept importable from here.
export {
  SERVICE,
  type SharedStateKind,
  sharedStateKeyOf,
  sharedStatePrefixOf,
} from './sharedRecords.ts';
