import type { RuntimeConfig } from '#shared/config.ts';

/**
 * approveAction has no keys of its own: the expiry is the shared `approvals`, and the recorded action
 * carries what its owner's executor reads.
 */
export const specSettings = [] as const;
export type ApproveActionConfig = RuntimeConfig<typeof specSettings>;
