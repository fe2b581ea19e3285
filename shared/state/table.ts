import { config } from '#shared/config.ts';

/** The state table has one string key `id` (shared with Powertools idempotency) and TTL on `expiration`. */
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
