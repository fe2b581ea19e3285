import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { ApprovalNeed } from '#shared/approval/recheck.ts';
import { processRegion, type RuntimeConfig } from '#shared/config.ts';
import type { Intent, Plan } from '#shared/domain/intent.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import type { FunctionSettings } from '#shared/stageSettings.ts';

/** Where an invocation runs, from its Lambda context: a manual payload carries no account or region. */
export interface InvocationSite {
  requestId: string;
  account: string;
  region: string;
}

/** The account `sls invoke local` stands for: its context carries no function ARN. */
export const LOCAL_ACCOUNT = '000000000000';

/** The region of an invocation with neither a function ARN nor AWS_REGION: nothing to compare with. */
export const UNKNOWN_REGION = 'unknown';

/**
 * Account and region from the function ARN (arn:aws:lambda:<region>:<account>:function:<name>); a local
 * invoke has none, so the region comes from the environment and the account is a placeholder.
 */
export function invocationSiteOf(
  context: Pick<Context, 'awsRequestId'> & { invokedFunctionArn?: string | undefined },
  region: string | undefined = processRegion(),
): InvocationSite {
  const [, , , arnRegion, arnAccount] = (context.invokedFunctionArn ?? '').split(':');
  return {
    requestId: context.awsRequestId ?? 'local',
    account: arnAccount || LOCAL_ACCOUNT,
    region: arnRegion || region || UNKNOWN_REGION,
  };
}

/** What an event says, computed once: the normalized signal, and the facts the later steps need. */
export interface Observation<F> {
  signal: Signal;
  facts: F;
}

/** One field of an event that the function refuses, named for the person who sent it. */
export interface EventIssue {
  path: string;
  message: string;
}

/** The envelope fields every EventBridge event carries: where AWS says it happened. */
export interface EventEnvelope {
  account: string;
  region: string;
}

/**
 * The common scope: an event of another account or region is not this stack's to act on. Cross-account
 * or cross-region rules can put one on this bus, and then anyone able to change that other account's
 * resources (an alarm's state, a backup job) would choose what this stack does here. A local invoke
 * knows no account; its region is the environment's.
 */
export function envelopeScope(event: EventEnvelope, site: InvocationSite): EventIssue[] {
  const issues: EventIssue[] = [];
  if (site.account !== LOCAL_ACCOUNT && event.account !== site.account) {
    issues.push({
      path: 'account',
      message: `the event is from account ${event.account}; this function runs in ${site.account} and acts only on its own`,
    });
  }
  if (site.region !== UNKNOWN_REGION && event.region !== site.region) {
    issues.push({
      path: 'region',
      message: `the event is from region ${event.region}; this function runs in ${site.region} and acts only on its own`,
    });
  }
  return issues;
}

/**
 * Thrown by `observe` when an event passes the schema but not the stage's rules (a manual override
 * beyond its limit): the runtime rejects it like a schema failure, counted and named, nothing done.
 */
export class EventRejected extends Error {
  override name = 'EventRejected';
  constructor(readonly issues: EventIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

export interface PipelineResult<F = unknown> {
  correlationId: string;
  signal: Pick<Signal, 'kind' | 'title' | 'severity' | 'incidentKey'>;
  dryRun: boolean;
  /** Why the kill switch made a live run dry, when it did (`Forced dry-run by /ops-autopilot/<stage>/mode: set to dry-run`). */
  forcedDryRun?: string;
  outcomes: Outcome[];
  notes: Plan['notes'];
  findings?: F;
}

/**
 * A function, described once: its event, how the event becomes a signal, what it reads, how it
 * decides, what it may do, and what an invocation returns. The runtime builds the handler from it
 * (`lambdaHandler`), and the registry derives its deployment and its declared permissions.
 */
export interface FunctionSpec<
  S extends z.ZodType,
  Facts,
  Gathered,
  I extends Intent,
  Findings = undefined,
  L extends readonly FunctionSettings[] = readonly [],
> {
  /** The function's name in the stack, also the `function` metric dimension. */
  name: string;
  schema: S;
  /**
   * The events it may act on, from the parsed event and where it runs: an event of another account or
   * region is refused at parse, before any AWS call (the idempotency record included), naming the
   * field. Required, so a new function decides; `envelopeScope` for most.
   */
  scope(event: z.output<S>, site: InvocationSite): EventIssue[];
  /**
   * Where an event whose envelope names no account is acted on, on an organization's stage (a scan
   * target's queue message names its account and region in its body); undefined: the envelope's
   * (shared/organization/site.ts). The account's mode, the served check and the member role follow it.
   */
  actingSite?(event: z.output<S>, site: InvocationSite): InvocationSite | undefined;
  /**
   * The stage settings it reads: its own (its settings.ts) and those of a shared capability it runs
   * (the idle stopper's `idleStop`). The runtime parses only these and the shared settings, so its
   * bundle holds no other function's settings. The config its steps and executors receive is typed
   * after this list (RuntimeConfig<L>): another function's key is a type error.
   */
  settings: L;
  /** Deduplicate deliveries by this JMESPath (the EventBridge event id); `optional` lets a manual payload run. */
  idempotency?: { key: string; optional?: boolean };
  // The steps are properties, not methods, so their parameters are checked strictly: a step whose
  // config needs a key the spec's settings do not list does not compile.
  /** Pure: the signal and facts of one event. Throws EventRejected for an event the stage refuses. */
  observe: (
    event: z.output<S>,
    env: { site: InvocationSite; config: RuntimeConfig<L> },
  ) => Observation<Facts>;
  gather: {
    /** The IAM actions `read` needs. */
    permissions: readonly string[];
    /** Read-only calls; nothing here changes AWS. */
    read: (input: Observation<Facts> & { config: RuntimeConfig<L> }) => Promise<Gathered>;
  };
  /** Pure: the intents and notes for one observation and what was gathered. */
  plan: (input: Observation<Facts> & { gathered: Gathered; config: RuntimeConfig<L> }) => Plan<I, Findings>;
  executors: ExecutorMap<I, RuntimeConfig<L>>;
  /**
   * Pure: the change calendars a mutating intent's rule or detection adds to the stage's
   * (`changeCalendars`), and whether it acts through a freeze (a detection's `ignoreChangeFreeze`).
   * Unset: the stage's calendars alone hold every mutation.
   */
  changeFreeze?: (intent: I, config: RuntimeConfig<L>) => FreezeScope;
  /**
   * Which live mutations wait for a person's approval (the stage's `approval: 'required'`), and what
   * approveAction checks again before it runs them; undefined (the default) acts at once.
   */
  approval?: (intent: I, config: RuntimeConfig<L>) => ApprovalNeed | undefined;
  /**
   * The plan's findings as the outcomes settled them, when an executor learns what the plan could not
   * (a claim whose write found no record): pure. The plan's own by default.
   */
  settle?(findings: Findings, outcomes: readonly Outcome[]): Findings;
  /** Function-specific metrics and logs, after the common report; also when an action failed. */
  measure?(result: PipelineResult<Findings>): void;
  /** What the invocation returns (a manual invoke prints it); the whole result by default. */
  respond?(result: PipelineResult<Findings>, event: z.output<S>): unknown;
}

// A spec of any function, for the registry and the runtime, which treat every function alike.
// biome-ignore lint/suspicious/noExplicitAny: each spec's own types are checked where it is written.
export type AnyFunctionSpec = FunctionSpec<z.ZodType, any, any, Intent, any, any>;
