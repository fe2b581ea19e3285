import { z } from 'zod';
import { parseStageConfig, type StageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { ConfigError } from '#shared/stageSettings.ts';

/**
 * The one place that reads process.env. Stage values live in config/stages.ts and are validated by the
 * schema config/stageConfig.ts composes (the shared settings and each function's own), so a bad
 * configuration fails `npm test` and `sls package`, never at 3 a.m.
 */

export { ConfigError };

/** How long the runbook start limit holds: the stage's setting, else its paging window. */
export function runbookCooldownMinutes(cfg: StageConfig): number {
  return cfg.runbooks.cooldownMinutes ?? cfg.paging.suppressionWindowMinutes;
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

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
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
