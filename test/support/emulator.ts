import { resetConfigForTests } from '#shared/config.ts';
import { type Moto, startMoto, useMotoEnvironment } from './moto.ts';

/**
 * An emulator test file's own moto, with the environment a deployed function would have for a stack
 * named `stack` (its table and topic are made by createLocalStack(stack) after each reset). Call it
 * before importing a handler: clients and the idempotency layer are built on import.
 */
export async function startEmulatedStack(stack: string): Promise<Moto> {
  const moto = await startMoto();
  useMotoEnvironment(moto.endpoint);
  process.env.STATE_TABLE_NAME = `${stack}-state`;
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${stack}-pages`;
  return moto;
}

/** The stage's dry-run switch, as DRY_RUN sets it for a deployed function. */
export function setDryRun(dryRun: boolean): void {
  process.env.DRY_RUN = String(dryRun);
  resetConfigForTests();
}

/** Runs `work` with the paging topic pointing nowhere, so every publish fails. */
export async function withUnreachableTopic<T>(work: () => Promise<T>): Promise<T> {
  const topic = process.env.PAGE_TOPIC_ARN;
  process.env.PAGE_TOPIC_ARN = `${topic}-missing`;
  resetConfigForTests();
  try {
    return await work();
  } finally {
    process.env.PAGE_TOPIC_ARN = topic;
    resetConfigForTests();
  }
}
