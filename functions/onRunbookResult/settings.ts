import { z } from 'zod';
import type { RuntimeConfig } from '#shared/config.ts';
import { Severity } from '#shared/domain/severity.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * onRunbookResult's stage settings (`runbookResult`). config/stageConfig.ts composes them into a stage's
 * configuration, so only zod and pure domain modules here.
 */
export const RunbookResultSettings = z.strictObject({
  /** The least severity of an escalation: the original page's, raised to this when it was lower. */
  minEscalationSeverity: Severity.default('high'),
  /** Tell a paged incident that its runbook succeeded (one notice); off: the action log only. */
  notifySuccess: z.boolean().default(true),
});
export type RunbookResultSettings = z.infer<typeof RunbookResultSettings>;

/** onRunbookResult's key in a stage. */
export const settings = functionSettings({ runbookResult: RunbookResultSettings.prefault({}) });

/** The stage settings onRunbookResult reads (its own): its spec's `settings`, all the runtime parses for it. */
export const specSettings = [settings] as const;
/** onRunbookResult's configuration: the shared keys and those of its spec's settings, no other function's. */
export type RunbookResultConfig = RuntimeConfig<typeof specSettings>;
