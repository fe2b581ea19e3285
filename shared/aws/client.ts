import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { currentTarget } from '#shared/organization/target.ts';
import { currentInvocation } from '#shared/runtime/invocation.ts';

/**
 * The SDK's retry and timeout settings, chosen once for every client (see "SDK retries" in the README):
 *
 * - `standard` retry mode: exponential backoff with jitter (base 100 ms, 500 ms for throttles, at
 *   most 20 s) and a retry quota per client, so a failing service is not hammered
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). `adaptive` would add
 *   client-side rate limiting that holds calls back in a short-lived Lambda; not wanted.
 * - 3 attempts by default; clients of throttled APIs (EC2, SSM Automation, S3, CloudTrail) ask for 6.
 * - A connection must open within 1 s and a request (sent, answered and read) finish within 5 s, an
 *   error otherwise (`throwOnRequestTimeout`): without these the SDK waits for ever on a call whose
 *   answer never comes, and only the invocation's deadline would end it. The fleet scan's large
 *   answers (DescribeInstances pages of up to 1000, GetMetricData of 500 queries) get 15 s. A call gives up
 *   after at most attempts x timeout plus a few seconds of backoff; middy's early deadline
 *   (TIMEOUT_EARLY_MS) still aborts whatever is in flight when the invocation runs out first.
 */
export const SDK_RETRY_MODE = 'standard';
export const SDK_MAX_ATTEMPTS = 3;
export const SDK_CONNECTION_TIMEOUT_MS = 1_000;
export const SDK_REQUEST_TIMEOUT_MS = 5_000;
/** For the clients whose answers can be large (EC2 describe pages, CloudWatch metric data). */
export const SDK_LARGE_REQUEST_TIMEOUT_MS = 15_000;

export interface SdkClientSettings {
  retryMode: typeof SDK_RETRY_MODE;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

/**
 * The settings every client is built with; `maxAttempts` for an API that is throttled more often,
 * `requestTimeoutMs` for one whose answers can be large.
 */
export function sdkClientSettings(
  maxAttempts = SDK_MAX_ATTEMPTS,
  requestTimeoutMs = SDK_REQUEST_TIMEOUT_MS,
): SdkClientSettings {
  return {
    retryMode: SDK_RETRY_MODE,
    maxAttempts,
    requestHandler: {
      connectionTimeout: SDK_CONNECTION_TIMEOUT_MS,
      requestTimeout: requestTimeoutMs,
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
      const sent: Promise<unknown> =
        withSignal === undefined
          ? prototype.send.call(this, command)
          : prototype.send.call(this, command, withSignal);
      return Promise.resolve(sent).catch(async (error: unknown) => {
        throw await explainNonAwsAnswer(error, this, command);
      });
    },
  });
  return client;
}

/** What a client acting in a member account is built with: that account's region and credentials. */
export interface ClientTarget {
  region: string;
  credentials: AwsCredentialIdentityProvider;
}

/** Every acting client's member clients, so a test can forget them (forgetMemberClientsForTests). */
const memberClients = new Set<Map<string, unknown>>();

/**
 * Tests: the member clients built so far are forgotten; each kept the credentials it was built with, so
 * a test file sharing a worker with another would otherwise call with the other's member credentials.
 */
export function forgetMemberClientsForTests(): void {
  for (const clients of memberClients) clients.clear();
}

/**
 * A client that reads and acts where the invocation's target is (shared/organization/target.ts): the
 * client built with no target, bound to the invocation, when there is none (a single-account stage, the
 * central account's own events: unchanged), else one client per member account and region, built once
 * with the member role's credentials and kept. `build` makes one client; it is called with no target
 * for the client exported. Only the clients of the resources a function reads or changes are acting:
 * the state table, the page topics and the kill switch stay central.
 */
export function actingClient<C extends Sendable>(build: (target?: ClientTarget) => C): C {
  const home = boundToInvocation(build());
  const homeSend = home.send;
  const byTarget = new Map<string, C>();
  memberClients.add(byTarget);
  Object.defineProperty(home, 'send', {
    configurable: true,
    // biome-ignore lint/suspicious/noExplicitAny: forwards the SDK's own argument types.
    value(this: C, command: any, options?: any) {
      const target = currentTarget();
      if (target === undefined) return homeSend.call(this, command, options);
      const key = `${target.account}/${target.region}`;
      let client = byTarget.get(key);
      if (client === undefined) {
        client = boundToInvocation(build({ region: target.region, credentials: target.credentials }));
        byTarget.set(key, client);
      }
      return client.send(command, options);
    },
  });
  return home;
}

/** An answer that was not AWS's: thrown instead of the SDK's deserialization error. */
export class EndpointNotAws extends Error {
  override name = 'EndpointNotAws';
}

/**
 * The SDK reports an HTML answer (an emulator's "404 Not Found" page for an API it lacks, a proxy's
 * error page) as a JSON or XML SyntaxError with a multi-line "Deserialization error" note. Said in one
 * line instead: which endpoint, which call, what it answered. The SDK's error is not kept as the cause:
 * the logs would print its dump again. Any other error is returned unchanged.
 */
async function explainNonAwsAnswer(error: unknown, client: unknown, command: unknown): Promise<unknown> {
  if (!(error instanceof Error) || !error.message.includes('Deserialization error')) return error;
  const { $response, $responseBodyText } = error as {
    $response?: { statusCode?: number; headers?: Record<string, string> };
    $responseBodyText?: string;
  };
  const contentType = $response?.headers?.['content-type'] ?? '';
  const html =
    contentType.includes('html') ||
    /^\s*</.test($responseBodyText ?? '') ||
    /"<!doctype|"<html/i.test(error.message);
  if (!html) return error;
  const call =
    (command as { constructor?: { name?: string } })?.constructor?.name?.replace(/Command$/, '') ?? 'a call';
  const status = $response?.statusCode === undefined ? '' : ` (HTTP ${$response.statusCode})`;
  return new EndpointNotAws(
    `${await endpointOf(client)} answered ${call} with an HTML page${status}, not an AWS response: an emulator that does not implement this call, or AWS_ENDPOINT_URL points at something other than AWS`,
  );
}

/** Where the client sends its calls, as a URL; the environment's AWS_ENDPOINT_URL when it names none. */
async function endpointOf(client: unknown): Promise<string> {
  try {
    const provider = (client as { config?: { endpoint?: () => Promise<unknown> } }).config?.endpoint;
    const endpoint = (await provider?.()) as
      | { protocol?: string; hostname?: string; port?: number; path?: string }
      | undefined;
    if (endpoint?.hostname) {
      const port = endpoint.port === undefined ? '' : `:${endpoint.port}`;
      const path = endpoint.path && endpoint.path !== '/' ? endpoint.path : '';
      return `${endpoint.protocol ?? 'https:'}//${endpoint.hostname}${port}${path}`;
    }
  } catch {
    // No endpoint configured on the client: the environment's, or AWS's own.
  }
  return process.env.AWS_ENDPOINT_URL || 'the AWS endpoint';
}
