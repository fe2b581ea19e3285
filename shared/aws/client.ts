import { currentInvocation } from '#shared/runtime/invocation.ts';

/**
 * The SDK's retry and timeout settings, chosen once for every client (see "SDK retries" in the README):
 *
 * - `standard` retry mode: exponential backoff with jitter (base 100 ms, at most 20 s) and a retry
 *   quota per client, so a failing service is not hammered
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). `adaptive` would add
 *   client-side rate limiting that holds calls back in a short-lived Lambda; not wanted.
 * - 3 attempts by default; clients of throttled APIs (EC2, SSM Automation, S3, CloudTrail) ask for 6.
 * - A connection must open within 1 s and a request (sent, answered and read) finish within 5 s, an
 *   error otherwise (`throwOnRequestTimeout`): without these the SDK waits for ever on a call whose
 *   answer never comes, and only the invocation's deadline would end it. With 6 attempts a call
 *   gives up after at most 6 x 5 s + 3.1 s of backoff, inside the 60 s function timeout and
 *   middy's early deadline (TIMEOUT_EARLY_MS), which still aborts whatever is in flight.
 */
export const SDK_RETRY_MODE = 'standard';
export const SDK_MAX_ATTEMPTS = 3;
export const SDK_CONNECTION_TIMEOUT_MS = 1_000;
export const SDK_REQUEST_TIMEOUT_MS = 5_000;

export interface SdkClientSettings {
  retryMode: typeof SDK_RETRY_MODE;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

/** The settings every client is built with; `maxAttempts` for an API that is throttled more often. */
export function sdkClientSettings(maxAttempts = SDK_MAX_ATTEMPTS): SdkClientSettings {
  return {
    retryMode: SDK_RETRY_MODE,
    maxAttempts,
    requestHandler: {
      connectionTimeout: SDK_CONNECTION_TIMEOUT_MS,
      requestTimeout: SDK_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: matches the SDK's overloaded send(command, options?).
type Sendable = { send(command: any, options?: any): Promise<any> };

/**
 * Makes every call of this client made inside a handler carry the invocation's abort signal: when the
 * invocation times out, calls still in flight or started later fail at once instead of mutating AWS
 * minutes afterwards in a frozen-and-thawed process. The prototype's send is looked up per call, so
 * test doubles that replace it (aws-sdk-client-mock) still see every call.
 */
export function boundToInvocation<C extends Sendable>(client: C): C {
  const prototype = Object.getPrototypeOf(client) as Sendable;
  Object.defineProperty(client, 'send', {
    configurable: true,
    // biome-ignore lint/suspicious/noExplicitAny: forwards the SDK's own argument types.
    value(this: C, command: any, options?: any) {
      const signal = currentInvocation()?.signal;
      const withSignal =
        signal && options?.abortSignal === undefined ? { ...options, abortSignal: signal } : options;
      return withSignal === undefined
        ? prototype.send.call(this, command)
        : prototype.send.call(this, command, withSignal);
    },
  });
  return client;
}
