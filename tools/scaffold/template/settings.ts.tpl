import { z } from 'zod';
import type { RuntimeConfig } from '#shared/config.ts';
import { Severity } from '#shared/domain/severity.ts';
import { functionSettings } from '#shared/stageSettings.ts';
import { HEALTH_CATEGORIES } from './schema.ts';

/**
 * __NAME__'s stage settings (`__KEY__`), listed in the registry's `functionSettings`
 * (functions/index.ts), which config/stageConfig.ts composes into a stage's configuration: only zod
 * and pure domain modules here.
 */
export const __TYPE__Settings = z.strictObject({
  /** The categories that page; the others are recorded (action log and metric). */
  page: z
    .array(z.enum(HEALTH_CATEGORIES))
    .max(HEALTH_CATEGORIES.length)
    .default(['issue', 'scheduledChange']),
  /** The severity of its pages. */
  severity: Severity.default('high'),
});
export type __TYPE__Settings = z.infer<typeof __TYPE__Settings>;

/** __NAME__'s key in a stage. */
export const settings = functionSettings({ __KEY__: __TYPE__Settings.prefault({}) });

/** The stage settings __NAME__ reads: its spec's `settings`, all the runtime parses for it. */
export const specSettings = [settings] as const;
/** __NAME__'s configuration: the shared keys and its own, no other function's. */
export type __TYPE__Config = RuntimeConfig<typeof specSettings>;
