import { vi } from 'vitest';
import { loadAwsClients } from '../../tools/awsClients.ts';

/**
 * What the fault run (test/fault/) needs to run the functions side by side against one fault proxy:
 * each function's clients in a lane of their own, a request timeout that follows how fast the emulator
 * answers on this machine, and one clock that Lambda's retry waits move on between attempts only.
 */

/** The header each lane's clients send, for the proxy's `laneHeader`. */
export const LANE_HEADER = 'x-fault-lane';

/** The request timeout on a quiet machine (production's 5 s, scaled down as the backoff is). */
export const BASE_REQUEST_TIMEOUT_MS = 250;
/** A timeout no larger than production's: a hung call is still given up on. */
const MAX_REQUEST_TIMEOUT_MS = 5_000;
/** The slowest answers in this share are what the timeout must be well above. */
const SLOW_SHARE = 0.99;
/** How far above them: the answers after a sample can be slower again than the sample's slowest. */
const MARGIN = 4;
const WINDOW = 200;

/**
 * How long the emulator takes to answer the SDK here, from the latest answers each lane's clients read
 * (measured in the test process, so a busy event loop counts too). The request timeout is a margin
 * above its slow tail: an injected timeout still times out (the proxy holds it longer than any timeout
 * this gives), while an answer that is slow only because the machine is busy is not taken for one
 * (that drained the clients' retry quotas and failed deliveries the proxy never faulted).
 */
export class AnswerTimes {
  private readonly recent: number[] = [];

  record(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > WINDOW) this.recent.shift();
  }

  requestTimeoutMs(): number {
    if (this.recent.length === 0) return BASE_REQUEST_TIMEOUT_MS;
    const sorted = [...this.recent].sort((a, b) => a - b);
    const slow = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * SLOW_SHARE))] ?? 0;
    return Math.min(MAX_REQUEST_TIMEOUT_MS, Math.max(BASE_REQUEST_TIMEOUT_MS, Math.ceil(slow * MARGIN)));
  }
}

/** The part of the SDK's standard retry strategy that picks the wait before a retry. */
interface RetryBackoff {
  computeNextBackoffDelay(retries: number): number;
}

// biome-ignore lint/suspicious/noExplicitAny: the SDK's middleware arguments, passed through untouched.
type Timed = (next: (args: any) => Promise<unknown>) => (args: any) => Promise<unknown>;

const laned = new WeakSet<object>();

export interface Lane {
  name: string;
  /** Sets every client of the lane to give up on a request after `ms`. */
  setRequestTimeout(ms: number): void;
}

/**
 * The clients the handler imported last (tools/awsClients.ts finds them all; call it right after the
 * handler's import) put in lane `name`: each request names the lane, each answer's time is recorded in
 * `times`, and the waits between retries are scaled by `backoffScale`, as the timeout is scaled from
 * production's 5 s (how many retries a call gets and the client's retry quota do not depend on the wait).
 */
export async function laneOfLoadedClients(
  name: string,
  times: AnswerTimes,
  backoffScale: number,
): Promise<Lane> {
  const handlers: { updateHttpClientConfig?(key: string, value: number): void }[] = [];
  for (const { client } of await loadAwsClients()) {
    // A document client shares its DynamoDB client's stack and config (lib-dynamodb): laned, timed and
    // scaled once, not twice.
    if (laned.has(client.middlewareStack)) continue;
    laned.add(client.middlewareStack);
    handlers.push((client.config.requestHandler ?? {}) as (typeof handlers)[number]);
    const naming: Timed = (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[LANE_HEADER] = name;
      return next(args);
    };
    client.middlewareStack.add(naming, { step: 'build', name: 'faultLane' });
    // Per attempt (below the retry middleware): the time of one request and its answer.
    const timing: Timed = (next) => async (args) => {
      const started = performance.now();
      const result = await next(args);
      times.record(performance.now() - started);
      return result;
    };
    client.middlewareStack.add(timing, { step: 'deserialize', name: 'faultLaneAnswerTime' });
    // The client's one strategy (built on first ask, then kept), whose retry quota its calls share.
    const { retryStrategy } = client.config as { retryStrategy?: () => Promise<unknown> };
    const strategy = (await retryStrategy?.()) as { retryBackoffStrategy?: RetryBackoff } | undefined;
    const backoff = strategy?.retryBackoffStrategy;
    if (!backoff) throw new Error('the SDK retry strategy has no retryBackoffStrategy to scale down');
    const unscaled = backoff.computeNextBackoffDelay.bind(backoff);
    backoff.computeNextBackoffDelay = (retries) => Math.floor(unscaled(retries) * backoffScale);
  }
  return {
    name,
    setRequestTimeout(ms) {
      for (const handler of handlers) handler.updateHttpClientConfig?.('requestTimeout', ms);
    },
  };
}

/**
 * The process's one clock (vi's fake Date), moved on by Lambda's retry waits while the functions'
 * deliveries run side by side. A move waits until no attempt is running, and no attempt starts while a
 * move waits: no invocation sees the clock jump under it (its deadline is read from Date), as none did
 * when the functions ran one after another. Latches, not sleeps: each waiter is woken by the change it
 * waits for.
 */
export class RetryClock {
  private running = 0;
  private moving = 0;
  private waiters: (() => void)[] = [];

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Runs `act` at the moment `ready` holds (synchronously with the check), then resolves with it. */
  private when<T>(ready: () => boolean, act: () => T): Promise<T> {
    if (ready()) return Promise.resolve(act());
    return new Promise((resolve) => this.waiters.push(() => void this.when(ready, act).then(resolve)));
  }

  /** Runs one invocation attempt: not while the clock is being moved. */
  async attempt<T>(run: () => Promise<T>): Promise<T> {
    await this.when(
      () => this.moving === 0,
      () => {
        this.running++;
      },
    );
    try {
      return await run();
    } finally {
      this.running--;
      this.wake();
    }
  }

  /** Moves the clock on by `ms` once no attempt is running. */
  async moveOn(ms: number): Promise<void> {
    this.moving++;
    // The move happens with the check that no attempt runs: none can start between the two.
    await this.when(
      () => this.running === 0,
      () => vi.setSystemTime(Date.now() + ms),
    );
    this.moving--;
    this.wake();
  }
}
