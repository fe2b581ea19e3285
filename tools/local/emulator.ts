import { resetConfigForTests } from '#shared/config.ts';
import { type Moto, startMoto, useMotoEnvironment } from './moto.ts';

/**
 * An emulator test file's own moto, with the environment a deployed function would have for a stack
 * named `stack` (its table and topic are made by createLocalStack(stack) after each reset). Call it
 * before importing a handler: clients and the idempotency layer are built on import.
 */
export async function startEmulatedStack(stack: string): Promise<Moto> {
  const moto = await startMoto();
  useStackEnvironment(moto.endpoint, stack);
  return moto;
}

/** The environment a deployed function of stack `stack` would have, its AWS at `endpoint` (a moto). */
export function useStackEnvironment(endpoint: string, stack: string): void {
  useMotoEnvironment(endpoint);
  process.env.STATE_TABLE_NAME = `${stack}-state`;
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${stack}-pages`;
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

/**
 * moto applies DynamoDB conditional writes non-atomically under concurrent requests, while DynamoDB
 * applies the writes to one item one at a time. A race test sends this process's state-table calls to
 * moto one at a time, so it proves what DynamoDB guarantees: the interleavings between deliveries vary,
 * each write is atomic. Call after the handler is imported (the client is built on import).
 */
export async function sendStateTableCallsOneAtATime(): Promise<void> {
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  let queue: Promise<unknown> = Promise.resolve();
  dynamodb.middlewareStack.add(
    (next) => (args) => {
      const run = queue.then(
        () => next(args),
        () => next(args),
      );
      queue = run.catch(() => undefined);
      return run;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'stateTableOneAtATimeForTests' },
  );
}
