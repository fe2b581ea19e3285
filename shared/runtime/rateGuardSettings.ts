import { z } from 'zod';

/**
 * How many mutating actions one rule or detection may take per window, across every delivery: the
 * blast radius of a rule gone wrong (an alarm storm restarting a fleet, a detection revoking in a
 * loop). Imports only zod, so shared/config.ts composes it without an import cycle.
 */
const Limit = z.strictObject({
  maxActions: z.number().int().min(1).max(1000),
  windowMinutes: z.number().int().min(1).max(1440),
});

export const RateGuardSettings = z.strictObject({
  /** Mutating actions per rule per window; a refused action is reported `rate-limited`. */
  maxActions: Limit.shape.maxActions.default(10),
  /** Fixed windows from the epoch: a window's count starts at zero when it begins. */
  windowMinutes: Limit.shape.windowMinutes.default(60),
  /** Per rule (runbook rule, `idle-stop`, detection name): overrides of the defaults above. */
  rules: z.record(z.string().min(1).max(255), Limit.partial()).default({}),
});
export type RateGuardSettings = z.infer<typeof RateGuardSettings>;

/** The limit that holds for one rule: its override, else the stage's default. */
export function rateLimitFor(settings: RateGuardSettings, rule: string): z.infer<typeof Limit> {
  const own = settings.rules[rule];
  return {
    maxActions: own?.maxActions ?? settings.maxActions,
    windowMinutes: own?.windowMinutes ?? settings.windowMinutes,
  };
}
