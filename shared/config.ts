import { z } from 'zod';
import { stages } from '#config/stages.ts';
import {
  AlarmRule,
  alarmRulesIssue,
  DEFAULT_REMEDIATION_TAG,
  RunbookLimits,
  scopeTagsOf,
} from '#functions/onAlarm/settings.ts';
import { BackupFailureSettings } from '#functions/onBackupFailure/settings.ts';
import { CloudTrailSettings, cloudTrailSettingsIssue } from '#functions/onCloudTrail/settings.ts';
import { CostAnomalySettings } from '#functions/onCostAnomaly/settings.ts';
import { RunbookResultSettings } from '#functions/onRunbookResult/settings.ts';
import { Severity } from '#shared/domain/severity.ts';
import { IdleStopSettings } from '#shared/idle/stageSettings.ts';
import { RateGuardSettings } from '#shared/runtime/rateGuardSettings.ts';

/**
 * The one place that reads process.env. Stage values live in config/stages.ts and are validated
 * here, so a bad configuration fails `npm test` and `sls package`, never at 3 a.m.
 *
 * Each function's settings schema sits beside the function (`functions/onAlarm/settings.ts`,
 * `functions/stopIdleInstances/stageSettings.ts`); this file composes them with the shared settings.
 * Those files import only zod and `shared/domain/`, never this file, so no schema reaches this one
 * through an import cycle while the modules load.
 */

export const StageConfig = z.strictObject({
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
  alarmRules: z.array(AlarmRule).default([]),
  runbooks: RunbookLimits.prefault({}),
  idleStop: IdleStopSettings.prefault({}),
  cloudTrail: CloudTrailSettings.prefault({}),
  costAnomaly: CostAnomalySettings.prefault({}),
  runbookResult: RunbookResultSettings.prefault({}),
  backupFailure: BackupFailureSettings.prefault({}),
  /** At most N mutating actions per rule or detection per window (shared/runtime/pipeline.ts). */
  rateGuard: RateGuardSettings.prefault({}),
});
export type StageConfigInput = z.input<typeof StageConfig>;
export type StageConfig = z.infer<typeof StageConfig>;

/** How long the runbook start limit holds: the stage's setting, else its paging window. */
export function runbookCooldownMinutes(cfg: StageConfig): number {
  return cfg.runbooks.cooldownMinutes ?? cfg.paging.suppressionWindowMinutes;
}

/** The opt-in tags the stage's runbook rules require (the automation role's IAM condition). */
export function runbookScopeTags(cfg: StageConfig): { key: string; values: string[] } {
  const tags = scopeTagsOf(cfg.alarmRules);
  const key = tags[0]?.key ?? DEFAULT_REMEDIATION_TAG.key;
  const values = tags.length > 0 ? [...new Set(tags.map((t) => t.value))] : [DEFAULT_REMEDIATION_TAG.value];
  return { key, values };
}

export interface RuntimeConfig extends StageConfig {
  stage: string;
  functionName: string;
  pageTopicArn: string | undefined;
  /** The chat topic (Amazon Q Developer's format) and the pager topic (Events API v2): unset, not used. */
  pageChatTopicArn: string | undefined;
  pagePagerTopicArn: string | undefined;
  stateTableName: string | undefined;
  /** The role runbooks run as (the stack's RunbookAutomationRole), passed as AutomationAssumeRole. */
  automationRoleArn: string | undefined;
  /** Set on a us-east-1 stack that forwards IAM, STS, sign-in and Organizations events to this region. */
  globalEventsHomeRegion: string | undefined;
}

/** A start-up error says what the variable must hold and what it got (a placeholder, an empty value). */
const got = (issue: { input?: unknown }) => `got ${JSON.stringify(issue.input)}`;

const Env = z.object({
  STAGE: z.string().min(1).default('dev'),
  DRY_RUN: z.enum(['true', 'false']).optional(),
  PAGE_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
      error: (issue) =>
        `must be an SNS topic ARN, arn:aws:sns:<region>:<account>:<topic> (the stack output PageTopicArn); ${got(issue)}`,
    })
    .optional(),
  // Empty when the stage subscribes no chat channel or pager (the stack makes no such topic).
  PAGE_CHAT_TOPIC_ARN: z
    .string()
    .regex(/^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256})?$/, {
      error: (issue) =>
        `must be an SNS topic ARN (the stack output PageChatTopicArn) or empty; ${got(issue)}`,
    })
    .optional(),
  PAGE_PAGER_TOPIC_ARN: z
    .string()
    .regex(/^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256})?$/, {
      error: (issue) =>
        `must be an SNS topic ARN (the stack output PagePagerTopicArn) or empty; ${got(issue)}`,
    })
    .optional(),
  STATE_TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, {
      error: (issue) => `must be a DynamoDB table name (the stack output StateTableName); ${got(issue)}`,
    })
    .optional(),
  AUTOMATION_ROLE_ARN: z
    .string()
    .startsWith('arn:', { error: (issue) => `must be an IAM role ARN; ${got(issue)}` })
    .optional(),
  GLOBAL_EVENTS_HOME_REGION: z
    .string()
    .regex(/^([a-z]{2}(-[a-z]+)+-\d{1,2})?$/, {
      error: (issue) => `must be an AWS region such as eu-west-1, or empty; ${got(issue)}`,
    })
    .optional(),
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
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
function describeStageIssues(error: z.ZodError, raw: unknown): string {
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

/** Validates one stage's values; throws a ConfigError naming every bad field. */
export function parseStageConfig(stage: string, raw: unknown): StageConfig {
  const parsed = StageConfig.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new ConfigError(`stage "${stage}": ${describeStageIssues(parsed.error, raw)}`);
  const issue = alarmRulesIssue(parsed.data.alarmRules);
  if (issue !== undefined) throw new ConfigError(`stage "${stage}": ${issue}`);
  const detectionIssue = cloudTrailSettingsIssue(parsed.data.cloudTrail);
  if (detectionIssue !== undefined) throw new ConfigError(`stage "${stage}": cloudTrail: ${detectionIssue}`);
  return parsed.data;
}

/** Builds the runtime configuration from the stage values and the environment overrides. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsedEnv = Env.safeParse(env);
  if (!parsedEnv.success) throw new ConfigError(`environment: ${describeIssues(parsedEnv.error)}`);
  const e = parsedEnv.data;
  const raw = stages[e.STAGE];
  if (raw === undefined) {
    throw new ConfigError(
      `no stage "${e.STAGE}" in config/stages.ts (known: ${Object.keys(stages).join(', ')})`,
    );
  }
  const stage = parseStageConfig(e.STAGE, raw);
  return {
    ...stage,
    dryRun: e.DRY_RUN === undefined ? stage.dryRun : e.DRY_RUN === 'true',
    stage: e.STAGE,
    functionName: e.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
    pageTopicArn: e.PAGE_TOPIC_ARN,
    pageChatTopicArn: e.PAGE_CHAT_TOPIC_ARN || undefined,
    pagePagerTopicArn: e.PAGE_PAGER_TOPIC_ARN || undefined,
    stateTableName: e.STATE_TABLE_NAME,
    automationRoleArn: e.AUTOMATION_ROLE_ARN,
    globalEventsHomeRegion: e.GLOBAL_EVENTS_HOME_REGION || undefined,
  };
}

/**
 * The region this process runs in, from the environment Lambda (and `sls invoke local`) sets: for the
 * callers that have no function ARN to read it from.
 */
export function processRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/**
 * Whether this process traces, decided as the Powertools tracer decides it: in Lambda (AWS_EXECUTION_ENV
 * set), unless POWERTOOLS_TRACE_ENABLED is false, or under SAM local or Amplify's mock. Read without
 * loading the tracer, which is loaded only when this is true.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() === 'false') return false;
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return executionEnv !== '' && executionEnv !== 'AWS_Lambda_amplify-mock' && !env.AWS_SAM_LOCAL;
}

let cached: RuntimeConfig | undefined;
/** The configuration of this process, parsed once. */
export function config(): RuntimeConfig {
  cached ??= loadConfig();
  return cached;
}

/** Tests change the environment between cases; this forgets the parsed copy. */
export function resetConfigForTests(): void {
  cached = undefined;
}

/** Every stage, validated: used by `sls package` and the tests. */
export function validateAllStages(): string[] {
  return Object.entries(stages).map(([name, raw]) => {
    parseStageConfig(name, raw);
    return name;
  });
}
