import type { RuntimeConfig } from '#shared/config.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * approveAction has no keys of its own: the expiry is the shared `approvals`, and the recorded action
 * carries what its owner's executor reads. Its (empty) declaration is still its registry entry's.
 */
export const settings = functionSettings({});
export const specSettings = [settings] as const;
export type ApproveActionConfig = RuntimeConfig<typeof specSettings>;
