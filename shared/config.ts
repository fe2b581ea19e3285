import { z } from 'zod';
import { OrganizationSettings } from '#config/organization.ts';
import { stages } from '#config/stages.ts';
import {
  ConfigError,
  describeStageIssues,
  type FunctionSettings,
  SharedGuardSettings,
  SharedStageSettings,
} from '#shared/stageSettings.ts';

/**
 * The one place that reads process.env. Stage values live in config/stages.ts; a running function
 * parses the shared settings and its own (its spec's `settings`), so its bundle never loads another
 * function's settings schema. The whole stage, every function's keys at once, is validated by
 * config/stageConfig.ts, so a bad configuration fails `npm test` and `sls package`, never at 3 a.m.
 */

export { ConfigError };

/** How long the runbook start limit holds: the stage's setting, else its paging window. */
export function runbookCooldownMinutes(cfg: {
  runbooks: { cooldownMinutes?: number | undefined };
  paging: { suppressionWindowMinutes: number };
}): number {
  return cfg.runbooks.cooldownMinutes ?? cfg.paging.suppressionWindowMinutes;
}

/** What the environment sets, the same for every function. */
export interface EnvironmentConfig {
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
  /** On an organization's stage: the queue the scheduled idle scan puts one message per target on. */
  orgScanQueueUrl?: string | undefined;
}

/**
 * The stage's shared settings, as parsed, and its `organization` (docs/ORGANIZATION.md): set, the
 * runtime acts in the accounts of the organization it serves (shared/organization/).
 */
type SharedStage = z.output<typeof SharedStageSettings> &
  z.output<typeof SharedGuardSettings> & { organization?: OrganizationSettings | undefined };

/** The settings every function's runtime reads (state table, idempotency, guards), whatever function runs. */
export type SharedConfig = SharedStage & EnvironmentConfig;

/** The keys one function settings declares, each with its own type. */
type OutputOf<S> = S extends FunctionSettings<infer Shape> ? z.output<z.ZodObject<Shape>> : never;
/** A union as one intersection (each member distributed over a parameter, then intersected). */
type Intersected<U> = (U extends unknown ? (member: U) => void : never) extends (member: infer I) => void
  ? I
  : never;
/** The keys a list of function settings declares (a spec's `settings`), as one object type. */
export type SettingsOutput<L extends readonly FunctionSettings[]> = Intersected<OutputOf<L[number]>>;

/**
 * A running function's configuration: the shared settings, the environment's and the keys of the
 * settings it lists (its spec's `settings`), which are all the runtime parses for it. Typed after that
 * list, so code reading another function's key (undefined in this bundle) does not compile.
 */
export type RuntimeConfig<L extends readonly FunctionSettings[] = readonly []> = SharedConfig &
  SettingsOutput<L>;

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
  ORG_SCAN_QUEUE_URL: z
    .string()
    .regex(/^(https?:\/\/[A-Za-z0-9.:-]+\/\d{12}\/[A-Za-z0-9_-]{1,80})?$/, {
      error: (issue) =>
        `must be an SQS queue URL, https://<endpoint>/<account>/<queue>, or empty; ${got(issue)}`,
    })
    .optional(),
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * The stage's shared settings and the given functions' own, parsed from config/stages.ts. Other
 * functions' keys are left out, not refused: config/stageConfig.ts refuses an unknown key for the stage.
 */
function parseSettings(stageName: string, raw: unknown, settings: readonly FunctionSettings[]) {
  const schema = z.object({
    ...SharedStageSettings.shape,
    ...Object.assign({}, ...settings.map((s) => s.shape)),
    ...SharedGuardSettings.shape,
    organization: OrganizationSettings.optional(),
  });
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success)
    throw new ConfigError(`stage "${stageName}": ${describeStageIssues(parsed.error, raw)}`);
  for (const s of settings) {
    const issue = s.issue?.(parsed.data);
    if (issue !== undefined) throw new ConfigError(`stage "${stageName}": ${issue}`);
  }
  // And the given settings' keys, which the caller types (loadConfig).
  return parsed.data as SharedStage;
}

/**
 * Builds a function's runtime configuration from the stage values and the environment overrides: the
 * shared settings and those given (a function's spec's `settings`; none for the runtime's own reads).
 */
export function loadConfig<const L extends readonly FunctionSettings[] = readonly []>(
  env: NodeJS.ProcessEnv = process.env,
  settings: L = [] as unknown as L,
): RuntimeConfig<L> {
  const parsedEnv = Env.safeParse(env);
  if (!parsedEnv.success) throw new ConfigError(`environment: ${describeIssues(parsedEnv.error)}`);
  const e = parsedEnv.data;
  const raw = stages[e.STAGE];
  if (raw === undefined) {
    throw new ConfigError(
      `no stage "${e.STAGE}" in config/stages.ts (known: ${Object.keys(stages).join(', ')})`,
    );
  }
  const stage = parseSettings(e.STAGE, raw, settings);
  const parsed: SharedConfig = {
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
    // Only where the stack sets it (an organization's stage): no key elsewhere.
    ...(e.ORG_SCAN_QUEUE_URL ? { orgScanQueueUrl: e.ORG_SCAN_QUEUE_URL } : {}),
  };
  // The schema parsed is built from `settings` at run time; its keys are those RuntimeConfig<L> names.
  return parsed as RuntimeConfig<L>;
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

let cached: SharedConfig | undefined;
/** The settings every function shares, and the environment's, parsed once. */
export function config(): SharedConfig {
  cached ??= loadConfig();
  return cached;
}

// One entry per function in a process: one in Lambda, each function a test runs in a test process.
const cachedByFunction = new Map<readonly FunctionSettings[], SharedConfig>();
/** A function's configuration (the shared settings and its spec's own), parsed once. */
export function functionConfig<L extends readonly FunctionSettings[]>(settings: L): RuntimeConfig<L> {
  // Cached by the list itself, so an entry holds exactly the keys parsed for that list.
  const cachedConfig = cachedByFunction.get(settings) as RuntimeConfig<L> | undefined;
  if (cachedConfig !== undefined) return cachedConfig;
  const parsed = loadConfig(process.env, settings);
  cachedByFunction.set(settings, parsed);
  return parsed;
}

/** Tests change the environment between cases; this forgets the parsed copies. */
export function resetConfigForTests(): void {
  cached = undefined;
  cachedByFunction.clear();
}
