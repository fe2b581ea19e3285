import { type Budget, BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { boundToInvocation, sdkClientSettings } from '#shared/aws/client.ts';
import { describeError } from '#shared/domain/errorText.ts';
import { currentInvocation } from '#shared/runtime/invocation.ts';
import { logger, tracer } from '#shared/runtime/powertools.ts';
import { dollars } from './signal.ts';

/**
 * Budget context for a cost anomaly page: the cost budgets that cover the affected accounts, read with
 * DescribeBudgets (its calculated actual and forecasted spend). The page must not wait on it: one retry
 * and a few seconds at most, then the page goes out saying the context is missing and why.
 */

// One retry: a throttled call is not worth a late page.
export const budgets = boundToInvocation(tracer.captureAWSv3Client(new BudgetsClient(sdkClientSettings(2))));

/** How long the budget context may hold the page back. */
export const BUDGETS_TIMEOUT_MS = 3000;
const MAX_PAGES = 5;

export interface BudgetContext {
  name: string;
  timeUnit: string;
  limit: number;
  actual: number;
  forecasted?: number;
  unit: string;
}

export type BudgetsGathered = { budgets: BudgetContext[] } | { unavailable: string };

const amount = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

/** A cost budget covers an account when it filters on none, or names it among its linked accounts. */
function covers(budget: Budget, accounts: readonly string[]): boolean {
  const linked = budget.CostFilters?.LinkedAccount;
  return linked === undefined || linked.length === 0 || accounts.some((a) => linked.includes(a));
}

function contextOf(budget: Budget): BudgetContext | undefined {
  const limit = amount(budget.BudgetLimit?.Amount);
  if (limit === undefined || limit <= 0) return undefined;
  const forecasted = amount(budget.CalculatedSpend?.ForecastedSpend?.Amount);
  return {
    name: budget.BudgetName ?? 'unnamed',
    timeUnit: budget.TimeUnit ?? 'unknown period',
    limit,
    actual: amount(budget.CalculatedSpend?.ActualSpend?.Amount) ?? 0,
    ...(forecasted !== undefined ? { forecasted } : {}),
    unit: budget.BudgetLimit?.Unit ?? 'USD',
  };
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const abort = () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

/** An error as a page says it: its name and message. */
/** Read-only: the cost budgets of `account` that cover the affected accounts, or why they could not be read. */
export async function readBudgets(account: string, affected: readonly string[]): Promise<BudgetsGathered> {
  const invocation = currentInvocation()?.signal;
  const timeout = AbortSignal.timeout(BUDGETS_TIMEOUT_MS);
  const abortSignal = invocation ? AbortSignal.any([invocation, timeout]) : timeout;
  try {
    const found: BudgetContext[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await Promise.race([
        budgets.send(
          new DescribeBudgetsCommand({ AccountId: account, MaxResults: 100, NextToken: nextToken }),
          { abortSignal },
        ),
        // Whatever holds the call up (a retry's back-off, a slow connection), the deadline ends the wait.
        untilAborted(abortSignal),
      ]);
      for (const b of res.Budgets ?? []) {
        if (b.BudgetType !== 'COST' || !covers(b, affected)) continue;
        const context = contextOf(b);
        if (context) found.push(context);
      }
      nextToken = res.NextToken ?? undefined;
      if (!nextToken) break;
    }
    return { budgets: found };
  } catch (error) {
    const why = timeout.aborted
      ? `the Budgets API did not answer within ${BUDGETS_TIMEOUT_MS / 1000} s`
      : describeError(error);
    logger.warn('budget context unavailable', { account, why });
    return { unavailable: why };
  }
}

const share = (part: number, whole: number) => `${Math.round((part / whole) * 1000) / 10} %`;

/** Lines for the page: each budget's limit, actual and forecast, and how far this anomaly moves it toward its limit. */
export function budgetLines(
  gathered: BudgetsGathered | undefined,
  impact: number,
  affected: readonly string[],
): string[] {
  if (gathered === undefined) return [];
  if ('unavailable' in gathered) {
    return [
      'Budgets',
      `  Budget context missing: the Budgets API could not be read (${gathered.unavailable}).`,
    ];
  }
  if (gathered.budgets.length === 0) {
    return ['Budgets', `  No cost budget covers account ${affected.join(', ')}.`];
  }
  return [
    `Budgets covering account ${affected.join(', ')} (${gathered.budgets.length})`,
    ...gathered.budgets.map((b) => {
      const money = (n: number) => (b.unit === 'USD' ? dollars(n) : `${n} ${b.unit}`);
      const forecast =
        b.forecasted !== undefined
          ? `, forecast ${money(b.forecasted)} (${share(b.forecasted, b.limit)})`
          : '';
      return (
        `  - ${b.name} (${b.timeUnit.toLowerCase()}): limit ${money(b.limit)}, actual ${money(b.actual)} ` +
        `(${share(b.actual, b.limit)})${forecast}; this anomaly is ${share(impact, b.limit)} of the limit`
      );
    }),
  ];
}
