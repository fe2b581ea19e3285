import type { SharedConfig } from '#shared/config.ts';
import type { Intent, SkipReason } from '#shared/domain/intent.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';

/**
 * What an executor runs with: `config` is its function's (RuntimeConfig of its spec's settings), typed
 * as the keys it reads; the shared ones where it reads no function's own.
 */
export interface ExecutionContext<C extends SharedConfig = SharedConfig> {
  config: C;
  signal: Signal;
  /** Outcomes of the intents executed before this one, in plan order. */
  prior: Outcome[];
  /** Why the kill switch made this run dry (`Forced dry-run by /ops-autopilot/<stage>/mode: set to dry-run`), when it did. */
  forcedDryRun?: string;
  /** The rate guard's slot, for an executor that claims it in its own transaction (`joinsRateGuard`). */
  rateSlot?: RateSlot;
}

/** A rate guard slot to claim: the rule's window and the action's id (shared/state/rateGuard.ts). */
export interface RateSlot {
  rule: string;
  actionId: string;
  maxActions: number;
  windowSeconds: number;
  /** Epoch ms the window is computed from. */
  atMs: number;
  /** The member account it counts in, on an organization's stage (shared/state/rateGuard.ts). */
  account?: string;
}

/**
 * What the rate guard counts an action against: the rule or detection that asks for it, and the
 * action's own idempotency id, so a retry or a duplicate of the same action is not counted twice.
 */
export interface RateGuardKey {
  rule: string;
  actionId: string;
}

/**
 * The EMF metrics an executor's outcomes count, so the runtime needs to know no intent kind: `done`
 * counts what it did; `refused` counts skips by reason, its own or a plan note that withheld it.
 */
export interface ExecutorMetrics {
  done?: string;
  refused?: Partial<Record<SkipReason, string>>;
}

interface ExecutorBase<I extends Intent, C extends SharedConfig> {
  kind: I['kind'];
  /**
   * The IAM actions it needs on what the runtime grants every role: the state table's records, the page
   * topic and its key. Its AWS actions (ssm:StartAutomationExecution, ec2:StopInstances) are not listed
   * here: they are those of the statements its function's deployment grants it (functions/index.ts
   * ExecutorGrant), declared once, where the resources and conditions are.
   */
  permissions: readonly string[];
  metrics?: ExecutorMetrics;
  /** Must be idempotent: a retried delivery is normal. Returns an outcome instead of throwing. */
  execute(intent: I, ctx: ExecutionContext<C>): Promise<Outcome>;
}

/**
 * Changes AWS resources (starts a runbook, stops instances). The runtime never calls `execute` in
 * dry-run: it shows `preview` instead, so a new executor cannot forget the dry-run check.
 */
export interface MutatingExecutor<I extends Intent, C extends SharedConfig = SharedConfig>
  extends ExecutorBase<I, C> {
  mutates: true;
  /** What it would do, after "would ": `start AWS-RestartEC2Instance InstanceId=i-1 (rule r)`. */
  preview(intent: I, ctx: ExecutionContext<C>): string;
  /** Time it needs to finish and be recorded: with less left in the invocation it is not started. */
  budgetMs: number;
  /** Required, so no mutation escapes the per-rule rate guard (shared/runtime/pipeline.ts). */
  rateGuard(intent: I, ctx: ExecutionContext<C>): RateGuardKey;
  /**
   * Claims `ctx.rateSlot` in the same transaction as its own claim, one round trip instead of two, and
   * answers `skipped` with reason `rate-limited` when the slot is refused; the runtime claims none.
   */
  joinsRateGuard?: true;
}

/** Tells people (pages): runs in dry-run too, since a dry-run stage still pages. */
export interface NotifyingExecutor<I extends Intent, C extends SharedConfig = SharedConfig>
  extends ExecutorBase<I, C> {
  mutates: false;
}

/** An executor: the only code that writes to AWS. */
export type Executor<I extends Intent, C extends SharedConfig = SharedConfig> =
  | MutatingExecutor<I, C>
  | NotifyingExecutor<I, C>;

/** One executor per intent kind a function can plan: a missing one is a compile error. */
export type ExecutorMap<I extends Intent, C extends SharedConfig = SharedConfig> = {
  [K in I['kind']]: Executor<Extract<I, { kind: K }>, C>;
};
