import { z } from 'zod';
import { stages } from '#config/stages.ts';

/**
 * The one place that reads process.env. Stage values live in config/stages.ts and are validated
 * here, so a bad configuration fails `npm test` and `sls package`, never at 3 a.m.
 */

export const Severity = z.enum(['critical', 'high', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

/** AWS formats that an event field must match before it may become a runbook parameter. */
export const ParameterFormat = z.enum([
  'ec2-instance-id',
  'security-group-id',
  's3-bucket-name',
  'iam-role-arn',
  'db-instance-id',
  'name',
]);
export type ParameterFormat = z.infer<typeof ParameterFormat>;

const ParameterSource = z.union([
  z.strictObject({ fromDimension: z.string().min(1), format: ParameterFormat }),
  z.strictObject({ fromTag: z.string().min(1), format: ParameterFormat }),
  z.strictObject({ value: z.string().min(1) }),
]);
export type ParameterSource = z.infer<typeof ParameterSource>;

const AlarmMatch = z
  .strictObject({
    /** Glob on the alarm name: `*` matches any run of characters. */
    alarmName: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    metricName: z.string().min(1).optional(),
    tag: z.strictObject({ key: z.string().min(1), value: z.string().min(1) }).optional(),
  })
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message: 'a rule must match on at least one of alarmName, namespace, metricName, tag',
  });

/** The tag a runbook's target instance must carry unless its rule says otherwise. */
export const DEFAULT_REMEDIATION_TAG = { key: 'ops:auto-remediate', value: 'true' } as const;

/**
 * Which instances a runbook may act on. `'none'`: no check at all, for runbooks whose target is not an
 * EC2 instance; the operator accepts that anyone who can create a matching alarm chooses the target.
 */
const RunbookScope = z.union([
  z.literal('none'),
  z.strictObject({
    /** The target must carry exactly this tag (also the automation role's IAM condition). */
    tag: z
      .strictObject({ key: z.string().min(1).max(128), value: z.string().min(1).max(256) })
      .default({ ...DEFAULT_REMEDIATION_TAG }),
    /** true: act on instances Auto Scaling, EKS, ECS, Karpenter, EMR or Batch manage, too. */
    ignoreManagedBy: z.boolean().default(false),
  }),
]);
export type RunbookScope = z.infer<typeof RunbookScope>;

const Runbook = z
  .strictObject({
    document: z.string().regex(/^[a-zA-Z0-9_.:/-]{3,128}$/, 'not an SSM document name or ARN'),
    parameters: z.record(z.string().regex(/^[A-Za-z0-9]+$/), ParameterSource).default({}),
    /** The parameter naming the instance acted on; default: the one whose format is ec2-instance-id. */
    target: z.strictObject({ parameter: z.string().min(1) }).optional(),
    scope: RunbookScope.prefault({}),
  })
  .refine((r) => r.target === undefined || r.parameters[r.target.parameter] !== undefined, {
    message: 'target.parameter must name one of the runbook parameters',
    path: ['target', 'parameter'],
  });
export type Runbook = z.infer<typeof Runbook>;

const AlarmRule = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'rule names are kebab-case'),
  match: AlarmMatch,
  runbook: Runbook.optional(),
  severity: Severity.optional(),
  page: z.boolean().default(true),
});
export type AlarmRule = z.infer<typeof AlarmRule>;

/** Stopping idle instances (PRODUCT.md section 4); a stage that says nothing gets these defaults. */
export const IdleStopSettings = z.strictObject({
  /** `opt-in`: only instances tagged ops:auto-stop=true; `opt-out`: all but those tagged false. */
  scope: z.enum(['opt-in', 'opt-out']).default('opt-in'),
  lookbackHours: z.number().int().min(1).max(168).default(24),
  /** Every hourly CPUUtilization maximum must stay below this. */
  cpuThresholdPercent: z.number().gt(0).max(100).default(5),
  /** NetworkIn + NetworkOut per hour must stay below this (5 MB: heartbeats and agents, no real traffic). */
  networkThresholdBytesPerHour: z.number().int().min(0).default(5_000_000),
  /** Share of the window's hours that need a datapoint; fewer means "not enough data", never stopped. */
  minCoverage: z.number().min(0.5).max(1).default(0.9),
  /**
   * Blast radius: at most this many stops in any rolling hour, across every run (scheduled and manual);
   * the other idle instances are reported as capped.
   */
  maxStopsPerHour: z.number().int().min(0).max(1000).default(10),
  /** How far a manual payload may make a run more aggressive than the settings above. */
  overrides: z
    .strictObject({
      /** A shorter window is less evidence: a manual lookback may not go below this. */
      minLookbackHours: z.number().int().min(1).max(168).default(6),
      /** A higher CPU threshold calls more instances idle: a manual value may not exceed this. */
      maxCpuThresholdPercent: z.number().gt(0).max(100).default(10),
      maxNetworkThresholdBytesPerHour: z.number().int().min(0).default(50_000_000),
    })
    .prefault({}),
});
export type IdleStopSettings = z.infer<typeof IdleStopSettings>;

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
  /** Blast radius of runbooks: starts per incident and rule, within a cooldown. */
  runbooks: z
    .strictObject({
      maxStartsPerIncident: z.number().int().min(1).max(100).default(1),
      /** Default: the paging suppression window. */
      cooldownMinutes: z.number().int().min(1).max(10_080).optional(),
    })
    .prefault({}),
  idleStop: IdleStopSettings.prefault({}),
});
export type StageConfigInput = z.input<typeof StageConfig>;
export type StageConfig = z.infer<typeof StageConfig>;

/** How long the runbook start limit holds: the stage's setting, else its paging window. */
export function runbookCooldownMinutes(cfg: StageConfig): number {
  return cfg.runbooks.cooldownMinutes ?? cfg.paging.suppressionWindowMinutes;
}

/** The opt-in tags the stage's runbook rules require (the automation role's IAM condition). */
export function runbookScopeTags(cfg: StageConfig): { key: string; values: string[] } {
  const tags = cfg.alarmRules.flatMap((r) =>
    r.runbook && r.runbook.scope !== 'none' ? [r.runbook.scope.tag] : [],
  );
  const key = tags[0]?.key ?? DEFAULT_REMEDIATION_TAG.key;
  const values = tags.length > 0 ? [...new Set(tags.map((t) => t.value))] : [DEFAULT_REMEDIATION_TAG.value];
  return { key, values };
}

export interface RuntimeConfig extends StageConfig {
  stage: string;
  functionName: string;
  pageTopicArn: string | undefined;
  stateTableName: string | undefined;
  /** The role runbooks run as (the stack's RunbookAutomationRole), passed as AutomationAssumeRole. */
  automationRoleArn: string | undefined;
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
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates one stage's values; throws a ConfigError naming every bad field. */
export function parseStageConfig(stage: string, raw: unknown): StageConfig {
  const parsed = StageConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`stage "${stage}": ${describeIssues(parsed.error)}`);
  for (const rule of parsed.data.alarmRules) {
    const dup = parsed.data.alarmRules.filter((r) => r.name === rule.name).length > 1;
    if (dup) throw new ConfigError(`stage "${stage}": alarm rule name "${rule.name}" is used twice`);
  }
  // One IAM condition guards the automation role: it can require one tag key (with any of its values).
  const keys = new Set(
    parsed.data.alarmRules.flatMap((r) =>
      r.runbook && r.runbook.scope !== 'none' ? [r.runbook.scope.tag.key] : [],
    ),
  );
  if (keys.size > 1) {
    throw new ConfigError(
      `stage "${stage}": alarm rules use different runbook scope tag keys (${[...keys].join(', ')}); use one key`,
    );
  }
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
    stateTableName: e.STATE_TABLE_NAME,
    automationRoleArn: e.AUTOMATION_ROLE_ARN,
  };
}

/**
 * The region this process runs in, from the environment Lambda (and `sls invoke local`) sets: for the
 * callers that have no function ARN to read it from.
 */
export function processRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
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
