import { z } from 'zod';
import { ApprovalRequirement } from '#shared/approval/settings.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import { awsRunbookParameters, unknownParameterProblem } from '#shared/domain/awsRunbookDocuments.ts';
import { ParameterFormat } from '#shared/domain/formats.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { Severity } from '#shared/domain/severity.ts';
import { ChangeCalendars, calendarsOf } from '#shared/runtime/changeCalendarSettings.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * onAlarm's stage settings: the alarm rules and the runbook limits. config/stageConfig.ts composes
 * them into a stage's configuration. Only zod and pure domain modules here: the configuration imports this
 * file while it loads, so nothing here may import the configuration back.
 */

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

/**
 * One IAM statement the runbook's document needs, granted to the automation role it runs as. Resources
 * may use CloudFormation pseudo parameters (`arn:${AWS::Partition}:ec2:${AWS::Region}:...`). No `*`
 * action: a runbook is granted what its document does, by name.
 */
const RunbookPermission = z.strictObject({
  actions: z
    .array(z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9]+\*?$/, 'an IAM action such as ec2:RebootInstances'))
    .min(1)
    .max(50),
  resources: z
    .array(z.string().regex(/^(\*|arn:\S{1,2000})$/, 'an ARN or *'))
    .min(1)
    .max(50)
    .default(['*']),
  condition: z
    .record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())])))
    .optional(),
});
export type RunbookPermission = z.infer<typeof RunbookPermission>;

/** The document whose permissions the stack knows: a rule using it need not declare them. */
export const RESTART_INSTANCE_DOCUMENT = 'AWS-RestartEC2Instance';

const Runbook = z
  .strictObject({
    document: z.string().regex(/^[a-zA-Z0-9_.:/-]{3,128}$/, 'not an SSM document name or ARN'),
    parameters: z.record(z.string().regex(/^[A-Za-z0-9]+$/), ParameterSource).default({}),
    /** The parameter naming the instance acted on; default: the one whose format is ec2-instance-id. */
    target: z.strictObject({ parameter: z.string().min(1) }).optional(),
    scope: RunbookScope.prefault({}),
    /**
     * What the document needs, added to the automation role it runs as. Unset on
     * AWS-RestartEC2Instance: its own (stop and start opted-in instances, read their state). Unset on
     * any other document: nothing, so its steps fail with AccessDenied until they are declared here.
     */
    permissions: z.array(RunbookPermission).max(20).optional(),
  })
  .refine((r) => r.target === undefined || r.parameters[r.target.parameter] !== undefined, {
    message: 'target.parameter must name one of the runbook parameters',
    path: ['target', 'parameter'],
  });
export type Runbook = z.infer<typeof Runbook>;

export const AlarmRule = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'rule names are kebab-case'),
  match: AlarmMatch,
  runbook: Runbook.optional(),
  severity: Severity.optional(),
  page: z.boolean().default(true),
  /** SSM Change Calendars that hold its runbook back while CLOSED, besides the stage's `changeCalendars`. */
  changeCalendars: ChangeCalendars.optional(),
  /** `'required'`: the runbook waits for a person's approval (approveAction) instead of starting. */
  approval: ApprovalRequirement,
});
export type AlarmRule = z.infer<typeof AlarmRule>;

/** Blast radius of runbooks: starts per incident and rule, within a cooldown. */
export const RunbookLimits = z.strictObject({
  maxStartsPerIncident: z.number().int().min(1).max(100).default(1),
  /** Default: the paging suppression window. */
  cooldownMinutes: z.number().int().min(1).max(10_080).optional(),
});
export type RunbookLimits = z.infer<typeof RunbookLimits>;

/** The opt-in tag each rule's runbook requires of its target (none for `scope: 'none'`). */
export function scopeTagsOf(rules: readonly AlarmRule[]): { key: string; value: string }[] {
  return rules.flatMap((r) => (r.runbook && r.runbook.scope !== 'none' ? [r.runbook.scope.tag] : []));
}

/** What a list of rules gets wrong as a whole, beyond each rule's own schema; undefined when nothing. */
export function alarmRulesIssue(rules: readonly AlarmRule[]): string | undefined {
  for (const rule of rules) {
    const dup = rules.filter((r) => r.name === rule.name).length > 1;
    if (dup) return `alarm rule name "${rule.name}" is used twice`;
    if (rule.changeCalendars !== undefined && rule.runbook === undefined) {
      return `alarm rule "${rule.name}": changeCalendars holds a runbook back, and the rule has none`;
    }
  }
  // One IAM condition guards the automation role: it can require one tag key (with any of its values).
  const keys = new Set(scopeTagsOf(rules).map((t) => t.key));
  if (keys.size > 1) {
    return `alarm rules use different runbook scope tag keys (${[...keys].join(', ')}); use one key`;
  }
  return misspelledParameterIssue(rules);
}

/**
 * A parameter an AWS-owned document does not take (a misspelled name) would make every start fail
 * with InvalidAutomationExecutionParameters in the first incident. Other documents are checked at
 * deploy time, from ssm:DescribeDocument (functions/onAlarm/runbookDocuments.ts).
 */
function misspelledParameterIssue(rules: readonly AlarmRule[]): string | undefined {
  for (const [index, rule] of rules.entries()) {
    if (!rule.runbook) continue;
    const known = awsRunbookParameters(rule.runbook.document);
    if (known === undefined) continue;
    const unknown = Object.keys(rule.runbook.parameters).find((p) => !known.includes(p));
    if (unknown !== undefined) {
      return unknownParameterProblem({ index, name: rule.name }, unknown, rule.runbook.document, known);
    }
  }
  return undefined;
}

/** The opt-in tags the stage's runbook rules require (the automation role's IAM condition). */
export function runbookScopeTags(rules: readonly AlarmRule[]): { key: string; values: string[] } {
  const tags = scopeTagsOf(rules);
  const key = tags[0]?.key ?? DEFAULT_REMEDIATION_TAG.key;
  const values = tags.length > 0 ? [...new Set(tags.map((t) => t.value))] : [DEFAULT_REMEDIATION_TAG.value];
  return { key, values };
}

/** A runbook start is held by its rule's calendars too (the stage's are the runtime's). */
export function alarmFreezeScope(intent: Intent, config: { alarmRules: readonly AlarmRule[] }): FreezeScope {
  if (intent.kind !== 'ssm.start-automation') return {};
  const rule = config.alarmRules.find((r) => r.name === intent.rule);
  return { calendars: rule?.changeCalendars ?? [] };
}

/** The calendars onAlarm may read on a stage: none unless a rule starts a runbook (its role's grant). */
export function alarmChangeCalendars(stage: {
  changeCalendars: readonly string[];
  alarmRules: readonly AlarmRule[];
}): string[] {
  const starters = stage.alarmRules.filter((r) => r.runbook !== undefined);
  if (starters.length === 0) return [];
  return calendarsOf(stage.changeCalendars, ...starters.map((r) => r.changeCalendars));
}

/** onAlarm's keys in a stage: its rules (checked as a whole) and the runbook limits. */
export const settings = functionSettings(
  { alarmRules: z.array(AlarmRule).default([]), runbooks: RunbookLimits.prefault({}) },
  (s) => alarmRulesIssue(s.alarmRules),
);

/** The stage settings onAlarm reads (its own): its spec's `settings`, all the runtime parses for it. */
export const specSettings = [settings] as const;
/** onAlarm's configuration: the shared keys and those of its spec's settings, no other function's. */
export type AlarmConfig = RuntimeConfig<typeof specSettings>;
