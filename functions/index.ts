/**
 * The registry: every function the stack deploys, once. The stack (serverless.yml through
 * plugins/ops-config.cjs), the package and routing tests and the bench iterate it, so a new function is
 * its folder, one entry here and its settings in config/stages.ts.
 */
import type { Context } from 'aws-lambda';
import type { StageConfig } from '#shared/config.ts';
import { declaredPermissions } from '#shared/runtime/permissions.ts';
import type { SharedStateGrant } from '#shared/state/sharedRecords.ts';
import { deployment as onAlarm } from './onAlarm/deployment.ts';
import { deployment as onBackupFailure } from './onBackupFailure/deployment.ts';
import { deployment as onCloudTrail } from './onCloudTrail/deployment.ts';
import { deployment as onCostAnomaly } from './onCostAnomaly/deployment.ts';
import { deployment as onRunbookResult } from './onRunbookResult/deployment.ts';
import { deployment as stopIdleInstances } from './stopIdleInstances/deployment.ts';

/**
 * The most the stack's functions may reserve between them: 5 % of the default account quota of 1,000
 * concurrent executions, so the account keeps 950 for everything else (Lambda refuses a reservation
 * that leaves under 100 unreserved:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). The package test holds it.
 */
export const RESERVED_CONCURRENCY_CAP = 50;

/** A CloudFormation value as it appears in the compiled template: a literal or an intrinsic function. */
export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: CfnValue;
  Condition?: CfnValue;
}

/** A chart on the stack's dashboard: the function's own metrics (EMF, namespace OpsAutopilot). */
export interface MetricWidget {
  title: string;
  metrics: string[];
  /** Seconds per datapoint; the function's monitoring period unless set. */
  period?: number;
}

/** How a function is deployed and watched: pure data, turned into the stack by the package-time plugin. */
export interface Deployment {
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
   * The EventBridge rule that invokes it (`ops-autopilot-<stage>-<rule>`): an event pattern file
   * (relative to the repository) or a schedule held by a stage param of serverless.yml.
   */
  trigger: { rule: string } & ({ patternFile: string } | { scheduleParam: string });
  ruleRetryPolicy: { maximumEventAge: number; maximumRetryAttempts: number };
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
  /** Environment beyond the provider's. */
  environment?: Record<string, CfnValue>;
  /**
   * Its own IAM statements; the runtime's (logs, traces, state table, page topic and key, failure
   * queue) are added to every role by the plugin.
   */
  statements(stage: StageConfig): IamStatement[];
}

export interface RegistryEntry {
  name: string;
  deployment: Deployment;
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

// The runtime modules load only when permissions are asked for: the plugin reads deployments alone.
export const registry: RegistryEntry[] = [
  {
    name: 'onAlarm',
    deployment: onAlarm,
    loadHandler: async () => (await import('./onAlarm/handler.ts')).handler as LambdaHandler,
    permissions: async () => {
      const { onAlarm: spec } = await import('./onAlarm/spec.ts');
      return declaredPermissions({ executors: spec.executors, readPermissions: spec.gather.permissions });
    },
  },
  {
    name: 'onCloudTrail',
    deployment: onCloudTrail,
    loadHandler: async () => (await import('./onCloudTrail/handler.ts')).handler as LambdaHandler,
    permissions: async (stage) => {
      const { onCloudTrail: spec, remediationExecutors } = await import('./onCloudTrail/spec.ts');
      const { enabledRemediations } = await import('./onCloudTrail/settings.ts');
      const on = enabledRemediations(stage.cloudTrail).map((r) => remediationExecutors[r]);
      return declaredPermissions({
        executors: { page: spec.executors['sns.page'], ...Object.fromEntries(on.map((e) => [e.kind, e])) },
        readPermissions: spec.gather.permissions,
      });
    },
  },
  {
    name: 'stopIdleInstances',
    deployment: stopIdleInstances,
    loadHandler: async () => (await import('./stopIdleInstances/handler.ts')).handler as LambdaHandler,
    permissions: async () => {
      const { stopIdleInstances: spec } = await import('./stopIdleInstances/spec.ts');
      return declaredPermissions({ executors: spec.executors, readPermissions: spec.gather.permissions });
    },
  },
  {
    name: 'onCostAnomaly',
    deployment: onCostAnomaly,
    loadHandler: async () => (await import('./onCostAnomaly/handler.ts')).handler as LambdaHandler,
    permissions: async (stage) => {
      const { onCostAnomaly: spec } = await import('./onCostAnomaly/spec.ts');
      const { stopIdleReadPermissions } = await import('./onCostAnomaly/gather.ts');
      // The idle stopper's reads and executor only on a stage that turns stopping on.
      const stops = stage.costAnomaly.stopIdle.enabled;
      return declaredPermissions({
        executors: stops ? spec.executors : { page: spec.executors['sns.page'] },
        readPermissions: [...spec.gather.permissions, ...(stops ? stopIdleReadPermissions : [])],
      });
    },
  },
  {
    name: 'onRunbookResult',
    deployment: onRunbookResult,
    loadHandler: async () => (await import('./onRunbookResult/handler.ts')).handler as LambdaHandler,
    permissions: async () => {
      const { onRunbookResult: spec } = await import('./onRunbookResult/spec.ts');
      return declaredPermissions({ executors: spec.executors, readPermissions: spec.gather.permissions });
    },
  },
  {
    name: 'onBackupFailure',
    deployment: onBackupFailure,
    loadHandler: async () => (await import('./onBackupFailure/handler.ts')).handler as LambdaHandler,
    permissions: async (stage) => {
      const { onBackupFailure: spec } = await import('./onBackupFailure/spec.ts');
      // The retry executor's actions only on a stage that retries (deployment.ts grants them then).
      const { 'backup.retry-job': retry, ...always } = spec.executors;
      return declaredPermissions({
        executors: stage.backupFailure.retry ? { ...always, retry } : always,
        readPermissions: spec.gather.permissions,
      });
    },
  },
];
