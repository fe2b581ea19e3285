import type { RuntimeConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';

export interface ExecutionContext {
  config: RuntimeConfig;
  signal: Signal;
  /** Outcomes of the intents executed before this one, in plan order. */
  prior: Outcome[];
}

/**
 * An executor: the only code that mutates AWS. It declares the IAM actions it needs, so a test can
 * hold serverless.yml to them, and must be idempotent: a retried delivery is normal.
 */
export interface Executor<I extends Intent> {
  kind: I['kind'];
  permissions: readonly string[];
  mutates: boolean;
  execute(intent: I, ctx: ExecutionContext): Promise<Outcome>;
}

/** One executor per intent kind a function can plan: a missing one is a compile error. */
export type ExecutorMap<I extends Intent> = { [K in I['kind']]: Executor<Extract<I, { kind: K }>> };
