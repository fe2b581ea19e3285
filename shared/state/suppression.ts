import {
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import type { Severity } from '#shared/domain/severity.ts';
import { futureHorizonMs } from '#shared/domain/time.ts';
import type { TransactUpdate } from './rateGuard.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from './table.ts';

/**
 * One page per incident per window, one resolve notice per page. A record per incident key holds the
 * window, who paged and whether the page went out, the repeats swallowed, and the resolve notice.
 * Every transition is a conditional write, so concurrent deliveries cannot both page.
 *
 * Ordering: EventBridge does not order deliveries. `alarmAt` and `okAt` are the state timestamps
 * (epoch ms) of the latest ALARM and OK seen. An ALARM not later than the last OK is stale (the alarm
 * already recovered); an OK not later than the last ALARM is stale (the alarm fired again). Window
 * and bookkeeping times are epoch seconds.
 */
export interface SuppressionWindow {
  id: string;
  windowEndsAt?: number;
  pagedBy?: string;
  pageSentAt?: number;
  severity?: Severity;
  repeats?: number;
  lastCorrelationId?: string;
  resolvedBy?: string;
  resolveSentAt?: number;
  okAt?: number;
  alarmAt?: number;
}

export type OpenDecision =
  | { action: 'page'; repeatsBefore: number; reopened: boolean }
  | { action: 'suppress'; repeats: number; counted: boolean }
  | { action: 'stale'; why: string };

export type ResolveDecision =
  | {
      action: 'resolve';
      repeats: number;
      severity: Severity | undefined;
      /** The delivery that opened the incident being resolved: part of the resolve notice's page id. */
      pagedBy: string | undefined;
    }
  | { action: 'skip'; why: string; reason: 'no-open-incident' | 'superseded' }
  /** A page for this incident is being sent right now (or is waiting for its retry): try again later. */
  | { action: 'retry'; why: string };

const keyOf = (incidentKey: string) => stateKey('page', incidentKey);
/** The incident's paging record (its window, timeline and notices), which runbook claims check too. */
export const incidentRecordKey = keyOf;
/** Kept well past any window, so a long incident still gets its resolve notice. */
const RETENTION = 14 * DAY;

/** A stored state time beyond the clock-skew horizon is no time at all (see futureHorizonMs). */
const believable = (ms: number | undefined): number | undefined =>
  ms !== undefined && ms <= futureHorizonMs() ? ms : undefined;

async function read(id: string): Promise<SuppressionWindow | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id }, ConsistentRead: true }),
  );
  const item = res.Item as SuppressionWindow | undefined;
  if (!item) return undefined;
  const { okAt, alarmAt, ...rest } = item;
  const ok = believable(okAt);
  const alarm = believable(alarmAt);
  return {
    ...rest,
    ...(ok !== undefined ? { okAt: ok } : {}),
    ...(alarm !== undefined ? { alarmAt: alarm } : {}),
  };
}

export interface OpenRequest {
  incidentKey: string;
  correlationId: string;
  windowSeconds: number;
  severity: Severity;
  /** Epoch ms of the state change, when known: an ALARM older than the last OK is stale. */
  occurredAtMs: number | undefined;
}

/**
 * How often a decision looks again after the record changed between its read and its write (another
 * delivery of the incident moved it on). Each round is a conditional write that lost to a real change,
 * so a few are plenty; running out fails the delivery, which Lambda retries.
 */
const ROUNDS = 5;

/** The record kept changing under a decision: fail the delivery so Lambda retries it, never guess. */
export class IncidentBusyError extends Error {
  override name = 'IncidentBusy';
}

/**
 * Opens a window and says "page" when none is open, or the last one was resolved (a new incident),
 * or the window has ended; otherwise counts a repeat and says "suppress".
 */
export async function openWindow(r: OpenRequest): Promise<OpenDecision> {
  const id = keyOf(r.incidentKey);
  const at = r.occurredAtMs ?? Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    const now = nowSeconds();
    const opened = await tryOpen(id, r, at, now);
    if (opened) return opened;
    const current = await read(id);
    if (current?.okAt !== undefined && current.okAt >= at) {
      return {
        action: 'stale',
        why: `the alarm already returned to OK at ${new Date(current.okAt).toISOString()}`,
      };
    }
    // Our own earlier attempt opened the window but never sent the page (crash, timeout): send it now.
    if (current && current.pagedBy === r.correlationId && current.pageSentAt === undefined) {
      return { action: 'page', repeatsBefore: 0, reopened: false };
    }
    // Resolved or ended since the open failed (or the record expired): this ALARM opens a new window.
    if (!current || isOpenable(current, now)) continue;
    // A retry of a delivery we already counted: do not count it twice.
    if (current.lastCorrelationId === r.correlationId) {
      return { action: 'suppress', repeats: current.repeats ?? 0, counted: false };
    }
    const repeats = await tryCountRepeat(id, r.correlationId, at, current, now);
    if (repeats !== undefined) return { action: 'suppress', repeats, counted: true };
  }
  throw new IncidentBusyError(`the record of ${r.incidentKey} kept changing; not paged yet`);
}

const isOpenable = (w: SuppressionWindow, now: number) =>
  w.windowEndsAt === undefined || w.windowEndsAt < now || w.resolvedBy !== undefined;

async function tryOpen(
  id: string,
  r: OpenRequest,
  at: number,
  now: number,
): Promise<OpenDecision | undefined> {
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        // Open when no window is open, or the last incident was resolved (a new one), and this ALARM is
        // later than the last OK.
        ConditionExpression:
          '(attribute_not_exists(windowEndsAt) OR windowEndsAt < :now OR attribute_exists(resolvedBy)) AND (attribute_not_exists(okAt) OR okAt < :at OR okAt > :horizon)',
        UpdateExpression:
          'SET windowEndsAt = :end, pagedBy = :cid, lastCorrelationId = :cid, repeats = :zero, severity = :sev, alarmAt = :at, expiration = :ttl REMOVE pageSentAt, resolvedBy, resolveSentAt',
        ExpressionAttributeValues: {
          ':now': now,
          ':at': at,
          ':horizon': futureHorizonMs(),
          ':end': now + r.windowSeconds,
          ':cid': r.correlationId,
          ':zero': 0,
          ':sev': r.severity,
          ':ttl': now + RETENTION,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = res.Attributes as SuppressionWindow | undefined;
    const resolved = old?.resolvedBy !== undefined;
    return {
      action: 'page',
      // A resolve notice already reported the last incident's repeats.
      repeatsBefore: resolved ? 0 : (old?.repeats ?? 0),
      reopened: resolved && (old?.windowEndsAt ?? 0) >= now,
    };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return undefined;
  }
}

/**
 * Counts a repeat of the open, unresolved incident and keeps `alarmAt` at its latest ALARM, in one
 * write: counted separately, an OK could resolve in between and this ALARM, which came after that
 * resolve, would be swallowed. Undefined when the record changed (resolved, ended, a later OK).
 */
async function tryCountRepeat(
  id: string,
  correlationId: string,
  at: number,
  current: SuppressionWindow,
  now: number,
): Promise<number | undefined> {
  const later = current.alarmAt === undefined || current.alarmAt < at;
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        ConditionExpression: `lastCorrelationId <> :cid AND attribute_not_exists(resolvedBy) AND windowEndsAt >= :now AND (attribute_not_exists(okAt) OR okAt < :at OR okAt > :horizon) AND ${later ? '(attribute_not_exists(alarmAt) OR alarmAt < :at OR alarmAt > :horizon)' : '(alarmAt >= :at AND alarmAt <= :horizon)'}`,
        UpdateExpression: `SET lastCorrelationId = :cid, expiration = :ttl${later ? ', alarmAt = :at' : ''} ADD repeats :one`,
        ExpressionAttributeValues: {
          ':cid': correlationId,
          ':now': now,
          ':at': at,
          ':horizon': futureHorizonMs(),
          ':one': 1,
          ':ttl': now + RETENTION,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return (res.Attributes as SuppressionWindow).repeats ?? 0;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return undefined;
  }
}

/** The page's sent mark: only the delivery that opened the window marks it. */
const pageSentUpdate = (incidentKey: string, correlationId: string): TransactUpdate => ({
  TableName: stateTable(),
  Key: { id: keyOf(incidentKey) },
  ConditionExpression: 'pagedBy = :cid',
  UpdateExpression: 'SET pageSentAt = :now, expiration = :ttl',
  ExpressionAttributeValues: {
    ':cid': correlationId,
    ':now': nowSeconds(),
    ':ttl': nowSeconds() + RETENTION,
  },
});

export async function markPageSent(incidentKey: string, correlationId: string): Promise<void> {
  await documents.send(new UpdateCommand(pageSentUpdate(incidentKey, correlationId)));
}

/** Writes of other records that belong with a page's sent mark (what the page's decision started). */
export type WithPageSent = NonNullable<TransactWriteCommandInput['TransactItems']>;

/**
 * Marks the page sent and writes `also` in the same round trip, all or none: a record that needs the
 * page (a runbook execution's link to it) is written with it, not in a call of its own.
 */
export async function markPageSentWith(
  incidentKey: string,
  correlationId: string,
  also: WithPageSent,
): Promise<void> {
  await documents.send(
    new TransactWriteCommand({
      TransactItems: [{ Update: pageSentUpdate(incidentKey, correlationId) }, ...also],
    }),
  );
}

/** Undoes an opened window whose page could not be published, so a retry pages. */
export async function releaseWindow(incidentKey: string, correlationId: string): Promise<void> {
  await documents
    .send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: keyOf(incidentKey) },
        ConditionExpression: 'pagedBy = :cid AND attribute_not_exists(pageSentAt)',
        // No page is in progress any more: an OK meanwhile is recorded, not deferred.
        UpdateExpression: 'SET windowEndsAt = :zero REMOVE pagedBy',
        ExpressionAttributeValues: { ':cid': correlationId, ':zero': 0 },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}

/**
 * Claims the resolve notice for a paged incident: only the first OK after a page resolves it. An OK
 * that arrives while the page is still being sent is retried rather than dropped; an OK that arrives
 * before any ALARM leaves its timestamp, so the late ALARM is recognised as stale. When the record
 * changes between a failed claim and the read that explains it (the page marked sent, a window
 * opened), the claim is tried again: no interleaving drops a resolve notice.
 */
export async function claimResolve(
  incidentKey: string,
  correlationId: string,
  okAtMs: number | undefined,
): Promise<ResolveDecision> {
  const id = keyOf(incidentKey);
  const okAt = okAtMs ?? Date.now();
  for (let round = 1; round <= ROUNDS; round++) {
    const claimed = await tryClaimResolve(id, correlationId, okAt);
    if (claimed) return resolveOf(claimed);
    const current = await read(id);
    if (current?.resolvedBy === correlationId && current.resolveSentAt === undefined) {
      return resolveOf(current);
    }
    if (current?.alarmAt !== undefined && current.alarmAt >= okAt) {
      return {
        action: 'skip',
        reason: 'superseded',
        why: `the alarm fired again at ${new Date(current.alarmAt).toISOString()}, after this OK`,
      };
    }
    if (current?.pagedBy !== undefined && current.pageSentAt === undefined) {
      return { action: 'retry', why: 'the page for this incident is still being sent' };
    }
    // The page went out after the claim failed: claim again.
    if (current?.pageSentAt !== undefined && current.resolvedBy === undefined) continue;
    // Nothing to resolve (never paged, or already resolved): remember when the alarm was OK, so an
    // older ALARM delivered late is recognised as stale. If a window opened meanwhile, look again.
    if (await noteOk(id, okAt, current)) {
      const why =
        current?.pageSentAt !== undefined
          ? 'the resolve notice was already sent'
          : 'no page was sent for this incident';
      return { action: 'skip', reason: 'no-open-incident', why };
    }
  }
  return { action: 'retry', why: 'the incident record kept changing' };
}

const resolveOf = (w: SuppressionWindow): ResolveDecision => ({
  action: 'resolve',
  repeats: w.repeats ?? 0,
  severity: w.severity,
  pagedBy: w.pagedBy,
});

async function tryClaimResolve(
  id: string,
  correlationId: string,
  okAt: number,
): Promise<SuppressionWindow | undefined> {
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        ConditionExpression:
          'attribute_exists(pageSentAt) AND attribute_not_exists(resolvedBy) AND (attribute_not_exists(alarmAt) OR alarmAt < :ok OR alarmAt > :horizon)',
        UpdateExpression: 'SET resolvedBy = :cid, okAt = :ok',
        ExpressionAttributeValues: { ':cid': correlationId, ':ok': okAt, ':horizon': futureHorizonMs() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return res.Attributes as SuppressionWindow;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return undefined;
  }
}

/**
 * Records `okAt` on a record with no incident in progress. True when recorded, or when a later OK
 * already was; false when an incident opened since `current` was read.
 */
async function noteOk(id: string, okAt: number, current: SuppressionWindow | undefined): Promise<boolean> {
  if (current?.okAt !== undefined && current.okAt >= okAt) return true;
  try {
    await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        ConditionExpression:
          '(attribute_not_exists(pagedBy) OR attribute_exists(resolvedBy)) AND (attribute_not_exists(okAt) OR okAt < :ok OR okAt > :horizon)',
        UpdateExpression: 'SET okAt = :ok, expiration = if_not_exists(expiration, :ttl)',
        ExpressionAttributeValues: {
          ':ok': okAt,
          ':ttl': nowSeconds() + RETENTION,
          ':horizon': futureHorizonMs(),
        },
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return false;
  }
}

export async function markResolveSent(incidentKey: string, correlationId: string): Promise<void> {
  await documents.send(
    new UpdateCommand({
      TableName: stateTable(),
      Key: { id: keyOf(incidentKey) },
      ConditionExpression: 'resolvedBy = :cid',
      UpdateExpression: 'SET resolveSentAt = :now',
      ExpressionAttributeValues: { ':cid': correlationId, ':now': nowSeconds() },
    }),
  );
}

export async function releaseResolve(incidentKey: string, correlationId: string): Promise<void> {
  await documents
    .send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: keyOf(incidentKey) },
        ConditionExpression: 'resolvedBy = :cid AND attribute_not_exists(resolveSentAt)',
        UpdateExpression: 'REMOVE resolvedBy',
        ExpressionAttributeValues: { ':cid': correlationId },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}

/** The delivery that opened the incident's current page (its page id derives from it), if one did. */
export async function incidentOpenedBy(incidentKey: string): Promise<string | undefined> {
  return (await read(keyOf(incidentKey)))?.pagedBy;
}
