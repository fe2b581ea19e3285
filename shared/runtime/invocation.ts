import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The invocation a piece of work belongs to: its abort signal (middy aborts it just before Lambda's
 * deadline) and the time it has left. Held in async-local storage so every SDK call made by the
 * handler carries the signal without each call site passing it (see shared/aws/client.ts).
 */
export interface Invocation {
  signal: AbortSignal;
  remainingMs(): number;
}

const current = new AsyncLocalStorage<Invocation>();

export function runInInvocation<T>(invocation: Invocation, work: () => Promise<T>): Promise<T> {
  return current.run(invocation, work);
}

/** The handler's invocation; undefined outside a handler (middleware hooks, scripts, unit tests). */
export function currentInvocation(): Invocation | undefined {
  return current.getStore();
}

/** The invocation ran out of time: the delivery fails and is retried; nothing further is started. */
export class DeadlineError extends Error {
  override name = 'DeadlineExceeded';
}

/** Throws once the invocation has been aborted, so a timed-out run stops at its next step. */
export function throwIfAborted(): void {
  if (currentInvocation()?.signal.aborted) {
    throw new DeadlineError('the invocation timed out: stopping before the next step');
  }
}
