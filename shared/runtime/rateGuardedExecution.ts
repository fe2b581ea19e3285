import type { SharedConfig } from '#shared/config.ts';
import type { Intent, PageIntent } from '#shared/domain/intent.ts';
import { failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutionContext, MutatingExecutor, RateGuardKey, RateSlot } from '#shared/executors/types.ts';
import { currentTarget } from '#shared/organization/target.ts';
import { claimRateSlot, claimTripNotice, type RateClaim, windowOf } from '#shared/state/rateGuard.ts';
import { logger } from './powertools.ts';
import { rateLimitFor } from './rateGuardSettings.ts';

/**
 * The rate guard around one live mutation (the pipeline's execute step calls `guardedExecute` last,
 * after dry-run, the change freeze, the approval gate and the deadline).
 */

/** The one "rate guard tripped" page of a rule's window: its own incident, so it is paged once. */
function tripPage(
  signal: Signal,
  cfg: SharedConfig,
  key: RateGuardKey & { account?: string },
  claim: RateClaim,
  refused: string,
): PageIntent {
  const { maxActions, windowMinutes } = rateLimitFor(cfg.rateGuard, key.rule);
  const start = new Date(claim.windowStart * 1000).toISOString();
  const end = new Date(claim.windowEnd * 1000).toISOString();
  // A member account's window trips on its own: its page is its own incident.
  const inAccount = key.account ? `:${key.account}` : '';
  return {
    kind: 'sns.page',
    notice: 'incident',
    severity: 'high',
    incidentKey: `rate-guard:${key.rule}${inAccount}:${start}`,
    correlationId: signal.correlationId,
    occurredAt: signal.occurredAt,
    content: {
      source: 'ops.rate-guard',
      title: `rate guard tripped for ${key.rule}`,
      summary:
        `${cfg.functionName} has taken ${maxActions} mutating action(s) for ${key.rule}${key.account ? ` in account ${key.account}` : ''} since ${start}, ` +
        `its limit per ${windowMinutes} min: further actions of ${key.rule} are refused until ${end}. ` +
        'Pages continue as usual; this is the only page about the limit in this window.',
      account: signal.account,
      region: signal.region,
      resources: signal.resources,
      evidence: { rule: key.rule, maxActions, windowMinutes, windowStart: start, windowEnd: end },
      links: signal.links,
      reason: `refused: would ${refused} (delivery ${signal.correlationId}, ${signal.title})`,
      nothingDone: `Nothing: ${key.rule} acts again from ${end}, or once rateGuard in config/stages.ts allows more.`,
    },
  };
}

/** The rate guard slot a live mutation claims: its rule's limit and window, its action's id. */
function rateSlotOf<I extends Intent, C extends SharedConfig>(
  executor: MutatingExecutor<I, C>,
  intent: I,
  ctx: ExecutionContext<C>,
): RateSlot {
  const key = executor.rateGuard(intent, ctx);
  const { maxActions, windowMinutes } = rateLimitFor(ctx.config.rateGuard, key.rule);
  // In a member account (an organization's stage), the window is that account's own.
  const account = currentTarget()?.account;
  return {
    ...key,
    maxActions,
    windowSeconds: windowMinutes * 60,
    atMs: Date.now(),
    ...(account ? { account } : {}),
  };
}

/**
 * A mutation the rate guard refused: `rate-limited`, and the first refused delivery of the window pages
 * that the guard tripped.
 */
async function refusedByRate<I extends Intent, C extends SharedConfig>(
  executor: MutatingExecutor<I, C>,
  intent: I,
  ctx: ExecutionContext<C>,
  slot: RateSlot,
): Promise<Outcome[]> {
  const { start, end } = windowOf(slot);
  const claim: RateClaim = { allowed: false, windowStart: start, windowEnd: end };
  const minutes = slot.windowSeconds / 60;
  const preview = executor.preview(intent, ctx);
  const refusedAt = new Date(claim.windowEnd * 1000).toISOString();
  const refusal = skipped(
    intent.kind,
    'rate-limited',
    `not done: would ${preview}; the rate guard allows ${slot.maxActions} action(s) of ${slot.rule} per ${minutes} min, all used until ${refusedAt}`,
  );
  let notify: boolean;
  try {
    notify = await claimTripNotice(slot.rule, claim.windowStart, ctx.signal.correlationId, slot.account);
  } catch (error) {
    return [refusal, failed('sns.page', error, `could not claim the rate guard page for ${slot.rule}`)];
  }
  if (!notify) return [refusal];
  logger.warn('rate guard tripped', { rule: slot.rule, maxActions: slot.maxActions, windowMinutes: minutes });
  const page = tripPage(ctx.signal, ctx.config, slot, claim, preview);
  return [refusal, await pageExecutor.execute(page, { ...ctx, prior: [...ctx.prior, refusal] })];
}

/**
 * The per-rule rate guard around a live mutation: a slot is claimed in the state table (atomic, keyed
 * by the action's idempotency id) before the executor runs, or, for an executor that joins it to its
 * own claim, in that claim's transaction. Refused: see refusedByRate.
 */
export async function guardedExecute<I extends Intent, C extends SharedConfig>(
  executor: MutatingExecutor<I, C>,
  intent: I,
  ctx: ExecutionContext<C>,
): Promise<Outcome[]> {
  const slot = rateSlotOf(executor, intent, ctx);
  if (executor.joinsRateGuard) {
    const outcome = await executor.execute(intent, { ...ctx, rateSlot: slot });
    if (outcome.status === 'skipped' && outcome.reason === 'rate-limited') {
      return refusedByRate(executor, intent, ctx, slot);
    }
    return [outcome];
  }
  let claim: RateClaim;
  try {
    claim = await claimRateSlot(slot, slot.actionId);
  } catch (error) {
    return [failed(intent.kind, error, `could not claim a rate guard slot for ${slot.rule}; nothing done`)];
  }
  if (!claim.allowed) return refusedByRate(executor, intent, ctx, slot);
  return [await executor.execute(intent, ctx)];
}
