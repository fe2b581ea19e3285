/**
 * The composition root of a stage's configuration: the runtime's shared settings and each function's
 * own (its `settings.ts`, listed once in the registry, functions/index.ts); shared/ knows none of them.
 * `sls package` and the tests validate every stage here; no Lambda bundle loads this file: a running
 * function parses only its own settings (shared/config.ts).
 */
import { z } from 'zod';
import { OrganizationSettings } from '#config/organization.ts';
import { stages } from '#config/stages.ts';
import { type FunctionName, functionSettings } from '#functions/index.ts';
import {
  ConfigError,
  describeStageIssues,
  type FunctionSettings,
  SharedGuardSettings,
  SharedStageSettings,
} from '#shared/stageSettings.ts';

// Each registered function's settings come from the registry (functions/index.ts), where a new
// function's entry adds them: this file is never edited for one.
export { type FunctionName, functionSettings };

/** A union of shapes as one shape (each shape distributed over a parameter, then intersected). */
type Merged<U> = (U extends unknown ? (shape: U) => void : never) extends (shape: infer I) => void
  ? I
  : never;
/** The functions' shapes as one: each function's keys with their own types. */
type FunctionShape = Merged<(typeof functionSettings)[FunctionName]['shape']>;

const functionShape = Object.assign(
  {},
  ...Object.values(functionSettings).map((s) => s.shape),
) as FunctionShape & z.core.$ZodShape;

/** A stage's configuration: the shared settings, each function's, then the runtime's guards. */
export const StageConfig = z.strictObject({
  ...SharedStageSettings.shape,
  ...functionShape,
  ...SharedGuardSettings.shape,
  /** The central stack of an organization (docs/ORGANIZATION.md); unset on a single-account stage. */
  organization: OrganizationSettings.optional(),
});
export type StageConfigInput = z.input<typeof StageConfig>;
export type StageConfig = z.infer<typeof StageConfig>;

/** Validates one stage's values; throws a ConfigError naming every bad field. */
export function parseStageConfig(stage: string, raw: unknown): StageConfig {
  const parsed = StageConfig.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(`stage "${stage}": ${describeStageIssues(parsed.error, raw)}`);
  for (const settings of Object.values(functionSettings) as FunctionSettings[]) {
    const issue = settings.issue?.(parsed.data);
    if (issue !== undefined) throw new ConfigError(`stage "${stage}": ${issue}`);
  }
  // A dry-run stage mutates nothing, so no member account can default to acting.
  if (parsed.data.dryRun && parsed.data.organization?.defaultMode === 'live') {
    throw new ConfigError(
      `stage "${stage}": organization.defaultMode: "live" on a stage with dryRun: true; use "dry-run" or "off", or make the stage live`,
    );
  }
  return parsed.data;
}

/** A stage of config/stages.ts by name, validated whole; the plugin derives the stack from it. */
export function stageConfigOf(stage: string): StageConfig {
  const raw = stages[stage];
  if (raw === undefined) {
    throw new ConfigError(
      `no stage "${stage}" in config/stages.ts (known: ${Object.keys(stages).join(', ')})`,
    );
  }
  return parseStageConfig(stage, raw);
}

/** Every stage, validated: used by `sls package` and the tests. */
export function validateAllStages(): string[] {
  return Object.entries(stages).map(([name, raw]) => {
    parseStageConfig(name, raw);
    return name;
  });
}
