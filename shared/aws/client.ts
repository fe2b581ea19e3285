import { currentInvocation } from '#shared/runtime/invocation.ts';

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
