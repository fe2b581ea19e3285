import { AsyncLocalStorage } from 'node:async_hooks';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * The member account an invocation acts in, on an organization's stage: every read and mutation of the
 * acting clients (shared/aws/client.ts, actingClient) goes to this account and region with these
 * credentials. Held in async-local storage like the invocation itself, so the gathers and executors
 * take their clients from the invocation's target without passing it through every call. Unset (a
 * single-account stage, the central account's own events), the clients act where the function runs.
 * The state table, the page topics and the kill switch are never acting clients: they stay central.
 */
export interface ActingTarget {
  account: string;
  region: string;
  /** The member role's credentials, cached per account (shared/organization/credentials.ts). */
  credentials: AwsCredentialIdentityProvider;
  /** The assumed-role session the member's CloudTrail names these calls with; the action log keeps it. */
  session?: string;
}

const current = new AsyncLocalStorage<ActingTarget>();

/** Runs `work` with every acting client in `target`'s account and region. */
export function actInTarget<T>(target: ActingTarget, work: () => Promise<T>): Promise<T> {
  return current.run(target, work);
}

/** The member account the current work acts in; undefined when it acts where the function runs. */
export function currentTarget(): ActingTarget | undefined {
  return current.getStore();
}
