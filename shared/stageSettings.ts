import { z } from 'zod';
import { ApprovalSettings } from '#shared/approval/settings.ts';
import { Severity } from '#shared/domain/severity.ts';
import { ChangeCalendars } from '#shared/runtime/changeCalendarSettings.ts';
import { RateGuardSettings } from '#shared/runtime/rateGuardSettings.ts';

/**
 * The settings every function's runtime reads, and the shape of a function's own. The stage
 * configuration is these plus each registered function's settings, composed in config/stageConfig.ts;
 * nothing here knows a function.
 */

export const SharedStageSettings = z.strictObject({
  /** Mutating actions (runbooks, stops, retries) only report what they would do. Paging is always live. */
  dryRun: z.boolean(),
  defaultSeverity: Severity.default('high'),
  paging: z
    .strictObject({
      /** One page per incident key per window; repeats are counted and shown in the next page. */
      suppressionWindowMinutes: z.number().int().min(1).max(1440).default(60),
    })
    .prefault({}),
  idempotency: z
    .strictObject({ expiresAfterMinutes: z.number().int().min(5).max(10_080).default(60) })
    .prefault({}),
  actionLogRetentionDays: z.number().int().min(1).max(400).default(30),
  /** How long an action that waits for a person's approval stays approvable (shared/approval/). */
  approvals: ApprovalSettings.prefault({}),
});

/** The runtime's guards, after the functions' settings in a stage (and in docs/configuration.md). */
export const SharedGuardSettings = z.strictObject({
  /** At most N mutating actions per rule or detection per window (shared/runtime/pipeline.ts). */
  rateGuard: RateGuardSettings.prefault({}),
  /**
   * SSM Change Calendars (names or ARNs) that hold every live mutation of the stage while one is CLOSED
   * or unreadable; a rule's or detection's own are checked in addition (shared/runtime/changeFreeze.ts).
   */
  changeCalendars: ChangeCalendars.default([]),
});

/**
 * A function's stage settings: its keys in a stage's configuration, each a zod schema with its
 * defaults, and the checks across fields no one schema can make.
 */
export interface FunctionSettings<Shape extends z.core.$ZodShape = z.core.$ZodShape> {
  shape: Shape;
  /** What the parsed settings get wrong as a whole, naming the field; undefined when nothing. */
  issue?(settings: z.output<z.ZodObject<Shape>>): string | undefined;
}

/** Declares a function's settings, keeping each key's own type for the composed stage configuration. */
export const functionSettings = <Shape extends z.core.$ZodShape>(
  shape: Shape,
  issue?: (settings: z.output<z.ZodObject<Shape>>) => string | undefined,
): FunctionSettings<Shape> => (issue ? { shape, issue } : { shape });

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A union reports every alternative's issues; the alternative with the fewest is the one meant (a
 * parameter `{ fromDimension, format }` with a mistyped format fails only on its format there).
 */
function closestIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const branch = issue.errors.reduce((best, b) => (b.length < best.length ? b : best));
  return branch.flatMap((inner) => closestIssues({ ...inner, path: [...issue.path, ...inner.path] }));
}

const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** An alarm rule is named by its `name` beside its index, so a person finds it in config/stages.ts. */
function whereInStage(path: PropertyKey[], raw: unknown): string {
  const at = path.map(String).join('.') || '(root)';
  const [list, index] = path;
  if (list !== 'alarmRules' || typeof index !== 'number') return at;
  const rules = (raw as { alarmRules?: unknown } | undefined)?.alarmRules;
  const name = Array.isArray(rules) ? (rules[index] as { name?: unknown } | undefined)?.name : undefined;
  return typeof name === 'string' ? `${at} (alarm rule "${name}")` : at;
}

/** One line per bad field: where (the rule by its name), what was wrong, the value given and what is allowed. */
export function describeStageIssues(error: z.ZodError, raw: unknown): string {
  return error.issues
    .flatMap(closestIssues)
    .map((i) => {
      const where = whereInStage(i.path, raw);
      if (i.code === 'invalid_value') {
        return `${where}: ${shown(i.input)} is not one of ${i.values.map(shown).join(' | ')}`;
      }
      const got = i.code !== 'unrecognized_keys' && i.input !== undefined ? ` (got ${shown(i.input)})` : '';
      return `${where}: ${i.message}${got}`;
    })
    .join('; ');
}
