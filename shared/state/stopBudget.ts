import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { config } from '#shared/config.ts';
import { currentTarget } from '#shared/organization/target.ts';
import { isConditionalFailure, nowSeconds, sharedStateKey, stateTable } from './table.ts';

/**
 * The idle-stop blast radius over time: at most `limit` stops in any rolling hour, whatever mix of
 * scheduled and manual runs asks for them. One record holds the claims of the last hour (run, time,
 * instances); it is rewritten with a version check, so two runs that read the same state cannot both
 * take the last slot: the loser re-reads and gets what is left.
 */
export const BUDGET_WINDOW_MS = 3_600_000;
/** Conditional writes lost to other runs before giving up: contention is a handful of runs at most. */
const CLAIM_ATTEMPTS = 8;

/**
 * One budget record for the stage, whichever function stops (the idle scan, a cost anomaly): the key is
 * shared, not the function's own, so the blast radius holds across them (and, on an organization's
 * stage, across its accounts: see spender).
 */
const budgetId = (): string => sharedStateKey('stop-budget');

interface BudgetClaim {
  /** The run's correlation id: a retry of the same run finds its claim instead of claiming again. */
  run: string;
  /**
   * The member account the stops are in, on an organization's stage; absent for the account the stack
   * runs in. Each account spends its own `limit`; all of them together the stage's ceiling.
   */
  account?: string;
  /** Epoch ms */
  at: number;
  instanceIds: string[];
}

interface BudgetRecord {
  id: string;
  type: 'stop-budget';
  version: number;
  claims: BudgetClaim[];
  expiration: number;
}

export interface StopBudget {
  limit: number;
  /** Stops claimed in the rolling hour before now */
  usedInLastHour: number;
  remaining: number;
}

export interface BudgetGrant extends StopBudget {
  /** The requested instances this run may stop, in the order asked (a prefix of the request). */
  granted: string[];
}

async function read(): Promise<BudgetRecord | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id: budgetId() }, ConsistentRead: true }),
  );
  return res.Item as BudgetRecord | undefined;
}

const recent = (record: BudgetRecord | undefined, now: number): BudgetClaim[] =>
  (record?.claims ?? []).filter((c) => c.at > now - BUDGET_WINDOW_MS);

const stopsOf = (claims: BudgetClaim[]) => claims.reduce((sum, c) => sum + c.instanceIds.length, 0);

/**
 * Whose budget a run spends: the member account it acts in (shared/organization/target.ts), and on an
 * organization's stage the ceiling over every account (organization.maxStopsPerHour). One record
 * holds every account's claims, so one conditional write keeps both limits, however runs interleave.
 */
function spender(): { account?: string; ceiling?: number } {
  const account = currentTarget()?.account;
  const ceiling = config().organization?.maxStopsPerHour;
  return { ...(account ? { account } : {}), ...(ceiling ? { ceiling } : {}) };
}

function budgetOf(claims: BudgetClaim[], limit: number): StopBudget {
  const { account, ceiling } = spender();
  const usedInLastHour = stopsOf(claims.filter((c) => c.account === account));
  const own = limit - usedInLastHour;
  const stageLeft = ceiling === undefined ? own : ceiling - stopsOf(claims);
  return { limit, usedInLastHour, remaining: Math.max(0, Math.min(own, stageLeft)) };
}

/**
 * What is left of the hour's budget for `run`. Read-only: gather uses it to plan; only a claim spends it.
 * The run's own earlier claim is not counted: a retry re-plans as its first attempt did, and its claim
 * then hands back what that attempt was granted.
 */
export async function readStopBudget(limit: number, run: string, now = Date.now()): Promise<StopBudget> {
  return budgetOf(
    recent(await read(), now).filter((c) => c.run !== run),
    limit,
  );
}

/**
 * Spends up to `instanceIds.length` stops from the rolling hour, as many as `limit` leaves. A run that
 * already claimed (a retried delivery) gets its first grant back and spends nothing.
 */
export async function claimStopBudget(
  run: string,
  instanceIds: string[],
  limit: number,
  now = Date.now(),
): Promise<BudgetGrant> {
  const { account } = spender();
  for (let attempt = 1; ; attempt++) {
    const record = await read();
    const claims = recent(record, now);
    const earlier = claims.find((c) => c.run === run);
    const others = claims.filter((c) => c.run !== run);
    const budget = budgetOf(others, limit);
    if (earlier) return { ...budget, granted: earlier.instanceIds };
    const granted = instanceIds.slice(0, budget.remaining);
    if (granted.length === 0) return { ...budget, granted };
    const next: BudgetRecord = {
      id: budgetId(),
      type: 'stop-budget',
      version: (record?.version ?? 0) + 1,
      claims: [...claims, { run, at: now, instanceIds: granted, ...(account ? { account } : {}) }],
      expiration: nowSeconds() + (2 * BUDGET_WINDOW_MS) / 1000,
    };
    try {
      await documents.send(
        new PutCommand({
          TableName: stateTable(),
          Item: next,
          ...(record
            ? {
                ConditionExpression: 'version = :version',
                ExpressionAttributeValues: { ':version': record.version },
              }
            : { ConditionExpression: 'attribute_not_exists(id)' }),
        }),
      );
      return { ...budget, granted };
    } catch (error) {
      if (!isConditionalFailure(error) || attempt >= CLAIM_ATTEMPTS) throw error;
    }
  }
}
