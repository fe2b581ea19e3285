/**
 * The registry: every function the stack deploys, once. The stack (serverless.yml through
 * plugins/ops-config.cjs), the stage schema, the package and routing tests and the bench iterate it, so
 * a new function is its folder, its settings and its entry here, and its keys in config/stages.ts.
 */
import type { Context } from 'aws-lambda';
import type { StageConfig } from '#config/stageConfig.ts';
import type { CfnValue, IamStatement } from '#shared/domain/iam.ts';
import { settings as stopIdleInstancesSettings } from '#shared/idle/stageSettings.ts';
import { ORGANIZATION_PERMISSIONS } from '#shared/organization/statements.ts';
import { declaredPermissions } from '#shared/runtime/permissions.ts';
import type { ActingFor } from '#shared/runtime/statements.ts';
import type { FunctionSettings } from '#shared/stageSettings.ts';
import type { SharedStateGrant } from '#shared/state/sharedRecords.ts';
import { approverDeployment } from './approveAction/deployment.ts';
import { settings as approveActionSettings } from './approveAction/settings.ts';
import { deployment as onAlarm } from './onAlarm/deployment.ts';
import { settings as onAlarmSettings } from './onAlarm/settings.ts';
import { deployment as onBackupFailure } from './onBackupFailure/deployment.ts';
import { settings as onBackupFailureSettings } from './onBackupFailure/settings.ts';
import { deployment as onCloudTrail } from './onCloudTrail/deployment.ts';
import { settings as onCloudTrailSettings } from './onCloudTrail/settings.ts';
import { deployment as onCostAnomaly } from './onCostAnomaly/deployment.ts';
import { settings as onCostAnomalySettings } from './onCostAnomaly/settings.ts';
import { deployment as onRunbookResult } from './onRunbookResult/deployment.ts';
import { settings as onRunbookResultSettings } from './onRunbookResult/settings.ts';
import { deployment as stopIdleInstances } from './stopIdleInstances/deployment.ts';

/**
 * The most the stack's functions may reserve between them: 5 % of the default account quota of 1,000
 * concurrent executions, so the account keeps 950 for everything else (Lambda refuses a reservation
 * that leaves under 100 unreserved:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). The package test holds it.
 */
export const RESERVED_CONCURRENCY_CAP = 50;

/**
 * Each registered function's settings (its settings.ts), by its name in the registry: the stage schema
 * (config/stageConfig.ts) composes these, so a new function's keys come in with its entry here.
 */
export const functionSettings = {
  onAlarm: onAlarmSettings,
  stopIdleInstances: stopIdleInstancesSettings,
  onCloudTrail: onCloudTrailSettings,
  onCostAnomaly: onCostAnomalySettings,
  onRunbookResult: onRunbookResultSettings,
  onBackupFailure: onBackupFailureSettings,
  approveAction: approveActionSettings,
} as const satisfies Record<string, FunctionSettings>;
export type FunctionName = keyof typeof functionSettings;

// In shared/ because a capability two functions use (the idle stopper) declares statements too.
export type { CfnValue, IamStatement };

/** An EventBridge event pattern, as a rule holds it: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html */
export type EventPattern = { [key: string]: CfnValue };

/** A chart on the stack's dashboard: the function's own metrics (EMF, namespace OpsAutopilot). */
export interface MetricWidget {
  title: string;
  metrics: string[];
  /** Seconds per datapoint; the function's monitoring period unless set. */
  period?: number;
}

/** How a function is deployed and watched: pure data, turned into the stack by the package-time plugin. */
export interface FunctionDeployment {
  description: string;
  /** Seconds; the provider's 60 unless set. */
  timeout?: number;
  /** MB; the provider's 256 unless set. */
  memorySize?: number;
  /**
   * Concurrent executions reserved for it, and its ceiling: a storm of its source throttles only it (its
   * invocations wait in Lambda's queue) and never takes the account's or the other functions'
   * concurrency. Required, so a new function must choose; the sum stays within RESERVED_CONCURRENCY_CAP.
   */
  reservedConcurrency: number;
  /** Lambda's retries of a failed asynchronous invocation before the failure queue. */
  maximumRetryAttempts: number;
  maximumEventAge: number;
  /** Short name in the role's name (`ops-autopilot-<stage>-<roleName>-<region>`, at most 64 characters). */
  roleName: string;
  /**
   * What invokes it: an EventBridge rule (`ops-autopilot-<stage>-<rule>`: an event pattern file, relative
   * to the repository; patterns derived in code, one rule each, `patternsFrom` naming where, for the docs;
   * or a schedule held by a stage param of serverless.yml), or nothing but a person (`manual`: how it is
   * invoked, for the docs), which gets no rule at all.
   */
  trigger: RuleTrigger | ManualTrigger;
  /** The rule's retries of a delivery; a function invoked by hand has no rule, and none. */
  ruleRetryPolicy?: { maximumEventAge: number; maximumRetryAttempts: number };
  monitoring: {
    /** Seconds per evaluated period of its alarms: 300 when event-driven, 3600 when hourly. */
    period: 300 | 3600;
    /** Errors page when they repeat: in `datapointsToAlarm` of the last `evaluationPeriods` periods. */
    errors: { evaluationPeriods: number; datapointsToAlarm: number };
    widgets: MetricWidget[];
  };
  /** A fixture under events/ that runs it end to end (bench, sls invoke local). */
  sampleFixture: string;
  /** State-table actions beyond the runtime's, on its own records only (e.g. `dynamodb:ConditionCheckItem`). */
  stateTableActions?: string[];
  /**
   * The state-table records it shares with other functions on this stage (shared/state/sharedRecords.ts:
   * one exact key, or one prefix): its role takes exactly the actions named on exactly those, besides
   * its own records.
   */
  sharedStateRecords?(stage: StageConfig): SharedStateGrant[];
  /**
   * The change calendars its live actions are checked against on a stage (the stage's and its rules'),
   * none where it cannot act: its role may read exactly these. Unset: it checks none (it mutates nothing).
   */
  changeCalendars?(stage: StageConfig): string[];
  /**
   * Other functions of the stage whose own records it reads and writes as that function (their key
   * prefix; approveAction runs an approved action as the function that planned it). Unset: none.
   */
  actsFor?(stage: StageConfig): ActingFor[];
  /**
   * On an organization's stage, whether it may assume the member role (act in member accounts). Unset:
   * it may, as every event function does; approveAction only where an owner asks for approval.
   */
  actsInMembers?(stage: StageConfig): boolean;
  /** Environment beyond the provider's. */
  environment?: Record<string, CfnValue>;
  /**
   * Its IAM statements besides its executors' (its gather's reads), on every stage; the runtime's (logs,
   * traces, state table, page topic and key, failure queue) are added to every role by the plugin.
   */
  readStatements(stage: StageConfig): IamStatement[];
  /**
   * What its role grants each executor its plan can use, by intent kind (exactly its spec's executor
   * map): the role's statements, the declared actions and whether a stage runs it come from here.
   */
  executors: Record<string, ExecutorGrant>;
  /**
   * On an organization's stage: the scheduled run fans out over the served (account, region) targets
   * through this queue, one message per target, each consumed by a run of the function itself
   * (deploy/org/scanFanOut.ts derives the queue, its dead-letter queue, the event source mapping and
   * its alarm). Unused on a single-account stage.
   */
  orgFanOut?: OrgFanOut;
}

/** An EventBridge rule that invokes a function. */
export type RuleTrigger = { rule: string } & (
  | { patternFile: string }
  | { patterns: EventPattern[]; patternsFrom: string }
  | { scheduleParam: string }
);

/** No rule: a person invokes it (`sls invoke -f <function>`, a chat custom action); `manual` says how. */
export interface ManualTrigger {
  manual: string;
}

/** A deployment's rule and its retries, or undefined for a function invoked by hand. */
export function eventRuleOf(
  deployment: Pick<FunctionDeployment, 'trigger' | 'ruleRetryPolicy'>,
): { trigger: RuleTrigger; retryPolicy: NonNullable<FunctionDeployment['ruleRetryPolicy']> } | undefined {
  const { trigger, ruleRetryPolicy } = deployment;
  if ('manual' in trigger) return undefined;
  // A rule without its retries would deliver with EventBridge's defaults (24 h, 185 attempts).
  if (ruleRetryPolicy === undefined)
    throw new Error(`ops-autopilot: rule ${trigger.rule} has no ruleRetryPolicy`);
  return { trigger, retryPolicy: ruleRetryPolicy };
}

/** The queue an organization's scheduled run fans out through, and how its messages are consumed. */
export interface OrgFanOut {
  /** `ops-autopilot-<stage>-<queue>`, and `<queue>-dlq` for the messages that failed every receive. */
  queue: string;
  /** Its logical id in the central stack, which the grant's statements name. */
  queueId: string;
  /** Concurrent runs the event source mapping may start (Lambda's minimum is 2). */
  maximumConcurrency: number;
  /** Receives before a target's message goes to the dead-letter queue (throttles count too). */
  maxReceiveCount: number;
}

/** What a function's role grants one of its executors. */
export interface ExecutorGrant {
  /**
   * Its statements on a stage ([] when the runtime's suffice), or 'off': the stage never runs it (a
   * remediation or a retry left off), so its role holds none of its actions and none are declared.
   * The one declaration of the executor's AWS actions: the actions it declares are these statements'.
   */
  statements(stage: StageConfig): IamStatement[] | 'off';
  /** Reads its gather makes only for this executor's intents: declared and granted only when it is on. */
  reads?: readonly string[];
  /**
   * It acts on the central stack's own resources (a queue), never in a member account: its statements
   * stay with the central role, out of the member role (deploy/org/member.ts).
   */
  central?: true;
}

/** A deployment as the plugin reads it: every statement of its role, its reads' then its executors'. */
export interface Deployment extends FunctionDeployment {
  statements(stage: StageConfig): IamStatement[];
}

export interface RegistryEntry {
  name: string;
  deployment: Deployment;
  /** Its keys in a stage's configuration and their checks (its settings.ts), composed by config/stageConfig.ts. */
  settings: FunctionSettings;
  /**
   * Every IAM action it declares on a stage (runtime, gather, executors): its role must hold exactly
   * these. An executor a stage never runs (a remediation left off) declares nothing there.
   */
  permissions(stage: StageConfig): Promise<string[]>;
  /** Its Lambda handler, loaded on demand (the demo and the bench invoke it in-process). */
  loadHandler(): Promise<LambdaHandler>;
}

/** A function's handler as the demo and tests call it: an event and a Lambda context in, a result out. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * The executors a function's spec wires, by intent kind, each with the actions it names on what the
 * runtime grants every role (the state table's records, the page topic and its key).
 */
interface SpecExecutors {
  executors: Record<string, { permissions: readonly string[] }>;
  gather: { permissions: readonly string[] };
}

/** The actions a grant's statements allow: an executor's AWS actions, declared there alone. */
/** The member role's assumption, the one organization action a function that acts in no member lacks. */
const ASSUME_ROLE = 'sts:AssumeRole';

const allowedActions = (statements: readonly IamStatement[]): string[] =>
  statements.filter((st) => st.Effect === 'Allow').flatMap((st) => [st.Action].flat());

/**
 * The executors a stage runs, each with its declared actions (those it names, then those its grant's
 * statements allow) and reads: those whose grant is not 'off'. A kind without a grant, or a grant for
 * no kind, is an error naming the function.
 */
export function executorsOn(
  name: string,
  spec: SpecExecutors,
  deployment: FunctionDeployment,
  stage: StageConfig,
): Record<string, { permissions: readonly string[] }> {
  const kinds = Object.keys(spec.executors);
  const stray = Object.keys(deployment.executors).filter((k) => !kinds.includes(k));
  if (stray.length > 0)
    throw new Error(`${name}: deployment.ts grants ${stray.join(', ')}, which its spec does not wire`);
  return Object.fromEntries(
    Object.entries(spec.executors).flatMap(([kind, executor]) => {
      const grant = deployment.executors[kind];
      if (grant === undefined) throw new Error(`${name}: deployment.ts grants no executor ${kind}`);
      const statements = grant.statements(stage);
      if (statements === 'off') return [];
      const permissions = [...executor.permissions, ...allowedActions(statements), ...(grant.reads ?? [])];
      return [[kind, { permissions }]];
    }),
  );
}

/** One function: its role's statements and its declared actions derived from its deployment's grants. */
function described(
  name: FunctionName,
  deployment: FunctionDeployment,
  loadSpec: () => Promise<SpecExecutors>,
  loadHandler: () => Promise<LambdaHandler>,
): RegistryEntry {
  return {
    name,
    deployment: {
      ...deployment,
      statements: (stage) => [
        ...deployment.readStatements(stage),
        ...Object.values(deployment.executors).flatMap((grant) => {
          const statements = grant.statements(stage);
          return statements === 'off' ? [] : statements;
        }),
      ],
    },
    settings: functionSettings[name],
    loadHandler,
    permissions: async (stage) => {
      const spec = await loadSpec();
      return declaredPermissions({
        executors: executorsOn(name, spec, deployment, stage),
        readPermissions: spec.gather.permissions,
        changeCalendars: (deployment.changeCalendars?.(stage) ?? []).length > 0,
        // Acting as another function on its records: its transactions' condition checks, say.
        stateTableActions: (deployment.actsFor?.(stage) ?? []).flatMap((o) => o.stateTableActions),
        organizationPermissions: stage.organization
          ? ORGANIZATION_PERMISSIONS.filter(
              (action) => action !== ASSUME_ROLE || deployment.actsInMembers?.(stage) !== false,
            )
          : [],
      });
    },
  };
}

// The runtime modules load only when permissions are asked for: the plugin reads deployments alone.
export const registry: RegistryEntry[] = [
  described(
    'onAlarm',
    onAlarm,
    async () => (await import('./onAlarm/spec.ts')).onAlarm,
    async () => (await import('./onAlarm/handler.ts')).handler as LambdaHandler,
  ),
  described(
    'onCloudTrail',
    onCloudTrail,
    async () => (await import('./onCloudTrail/spec.ts')).onCloudTrail,
    async () => (await import('./onCloudTrail/handler.ts')).handler as LambdaHandler,
  ),
  described(
    'stopIdleInstances',
    stopIdleInstances,
    async () => (await import('./stopIdleInstances/spec.ts')).stopIdleInstances,
    async () => (await import('./stopIdleInstances/handler.ts')).handler as LambdaHandler,
  ),
  described(
    'onCostAnomaly',
    onCostAnomaly,
    async () => (await import('./onCostAnomaly/spec.ts')).onCostAnomaly,
    async () => (await import('./onCostAnomaly/handler.ts')).handler as LambdaHandler,
  ),
  described(
    'onRunbookResult',
    onRunbookResult,
    async () => (await import('./onRunbookResult/spec.ts')).onRunbookResult,
    async () => (await import('./onRunbookResult/handler.ts')).handler as LambdaHandler,
  ),
  described(
    'onBackupFailure',
    onBackupFailure,
    async () => (await import('./onBackupFailure/spec.ts')).onBackupFailure,
    async () => (await import('./onBackupFailure/handler.ts')).handler as LambdaHandler,
  ),
  // No event rule: a person approves or rejects a pending action, and it runs as the owner's executor.
  described(
    'approveAction',
    approverDeployment({ onAlarm, onCloudTrail, stopIdleInstances, onCostAnomaly, onBackupFailure }),
    async () => (await import('./approveAction/spec.ts')).approveAction,
    async () => (await import('./approveAction/handler.ts')).handler as LambdaHandler,
  ),
];
