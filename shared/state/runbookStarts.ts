import {
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { futureHorizonMs } from '#shared/domain/time.ts';
import type { TransactUpdate } from './rateGuard.ts';
import { lastRecoveryAt } from './recovery.ts';
import { incidentRecordKey } from './suppression.ts';
import { DAY, isConditionalFailure, nowSeconds, stateKey, stateTable } from './table.ts';

/**
 * The runbook starts of one incident and rule within a cooldown. A start is claimed with a conditional
 * write before StartAutomationExecution, so concurrent deliveries (e.g. the contributor events of one
 * Metrics Insights alarm) cannot start more than the limit between them. A claim is keyed by the start's
 * ClientToken: a retry of the same transition keeps its slot, and SSM returns the same execution.
 */
export interface EarlierStart {
  correlationId: string;
  /** Epoch seconds. */
  at: number;
  executionId?: string;
}

interface StartsRecord {
  id: string;
  windowEndsAt: number;
  starts: number;
  tokens: Set<string>;
  earlier?: Record<string, EarlierStart>;
}

export type StartClaim =
  | { allowed: true }
  /** The alarm returned to OK at or after this ALARM's state change (checked in the same write). */
  | { allowed: false; recoveredAt: number }
  /** The rule's rate guard window is full (its slot is claimed in the same transaction). */
  | { allowed: false; rateLimited: true }
  | { allowed: false; starts: number; windowEndsAt: number; earlier: EarlierStart[] };

export interface StartRequest {
  incidentKey: string;
  rule: string;
  clientToken: string;
  correlationId: string;
  maxStarts: number;
  cooldownSeconds: number;
  /** Epoch ms of the ALARM's state change: no start once the incident has an OK at or after it. */
  alarmAtMs: number;
  /** The rate guard's slot (rateSlotUpdate), claimed in the same transaction as the start. */
  rateSlot?: TransactUpdate;
}

type Update = NonNullable<NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Update']>;

/**
 * The start's update, written only if the incident has had no OK at or after this ALARM: one
 * transaction, so an OK handled between gather and here cannot let a late ALARM act. The rate guard's
 * slot, when given, is claimed in it too: both hold or neither, in one round trip.
 */
async function claimUnlessRecovered(
  update: Update,
  incidentKey: string,
  alarmAtMs: number,
  rateSlot: Update | undefined,
): Promise<void> {
  await documents.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          ConditionCheck: {
            TableName: stateTable(),
            Key: { id: incidentRecordKey(incidentKey) },
            ConditionExpression: 'attribute_not_exists(okAt) OR okAt < :alarmAt OR okAt > :horizon',
            ExpressionAttributeValues: { ':alarmAt': alarmAtMs, ':horizon': futureHorizonMs() },
          },
        },
        { Update: update },
        ...(rateSlot ? [{ Update: rateSlot }] : []),
      ],
    }),
  );
}

/**
 * Which part of the claim's transaction failed its condition: the rate guard (checked first, as when
 * it was claimed before the start), the incident (recovered) or the limit.
 */
function cancelledBy(error: unknown): 'rate' | 'recovered' | 'limit' | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  if (reasons[2]?.Code === 'ConditionalCheckFailed') return 'rate';
  if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'recovered';
  if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'limit';
  return undefined;
}

const keyOf = (incidentKey: string, rule: string) => stateKey('runbook-starts', incidentKey, rule);

export async function claimRunbookStart(r: StartRequest): Promise<StartClaim> {
  const id = keyOf(r.incidentKey, r.rule);
  const now = nowSeconds();
  const entry: EarlierStart = { correlationId: r.correlationId, at: now };
  const tokenSet = new Set([r.clientToken]);
  /** Allowed, refused as recovered, or undefined when the limit's condition failed. */
  const attempt = async (update: Update): Promise<StartClaim | undefined> => {
    try {
      await claimUnlessRecovered(update, r.incidentKey, r.alarmAtMs, r.rateSlot);
      return { allowed: true };
    } catch (error) {
      const by = cancelledBy(error);
      if (by === 'rate') return { allowed: false, rateLimited: true };
      if (by === 'recovered') {
        return { allowed: false, recoveredAt: (await lastRecoveryAt(r.incidentKey)) ?? r.alarmAtMs };
      }
      if (by === 'limit') return undefined;
      throw error;
    }
  };
  // No record, or its cooldown is over: this start opens a new window.
  const opened = await attempt({
    TableName: stateTable(),
    Key: { id },
    ConditionExpression: 'attribute_not_exists(windowEndsAt) OR windowEndsAt < :now',
    UpdateExpression:
      'SET #type = :type, windowEndsAt = :end, starts = :one, tokens = :token, earlier = :earlier, expiration = :ttl',
    ExpressionAttributeNames: { '#type': 'type' },
    ExpressionAttributeValues: {
      ':type': 'runbook-starts',
      ':now': now,
      ':end': now + r.cooldownSeconds,
      ':one': 1,
      ':token': tokenSet,
      ':earlier': { [r.clientToken]: entry },
      ':ttl': now + r.cooldownSeconds + DAY,
    },
  });
  if (opened) return opened;
  // Inside the window: one more start while under the limit, unless this transition already has one.
  const added = await attempt({
    TableName: stateTable(),
    Key: { id },
    ConditionExpression: 'windowEndsAt >= :now AND starts < :max AND NOT contains(tokens, :tokenValue)',
    UpdateExpression: 'SET earlier.#token = :entry ADD starts :one, tokens :token',
    ExpressionAttributeNames: { '#token': r.clientToken },
    ExpressionAttributeValues: {
      ':now': now,
      ':max': r.maxStarts,
      ':one': 1,
      ':token': tokenSet,
      ':tokenValue': r.clientToken,
      ':entry': entry,
    },
  });
  if (added) return added;
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id }, ConsistentRead: true }),
  );
  const current = res.Item as StartsRecord | undefined;
  // The same transition claimed this slot before (a retry, or another delivery of it): it may go on
  // to SSM (the same ClientToken returns the same execution), unless the alarm has recovered since.
  if (current?.tokens?.has(r.clientToken)) {
    const okAt = await lastRecoveryAt(r.incidentKey);
    return okAt !== undefined && okAt >= r.alarmAtMs
      ? { allowed: false, recoveredAt: okAt }
      : { allowed: true };
  }
  return {
    allowed: false,
    starts: current?.starts ?? 0,
    windowEndsAt: current?.windowEndsAt ?? now,
    earlier: Object.values(current?.earlier ?? {}).sort((a, b) => a.at - b.at),
  };
}

/** The note of the execution a claimed start got, so a refused start can name it (a transaction's update). */
export function runbookExecutionNote(
  incidentKey: string,
  rule: string,
  clientToken: string,
  executionId: string,
): TransactUpdate {
  return {
    TableName: stateTable(),
    Key: { id: keyOf(incidentKey, rule) },
    ConditionExpression: 'attribute_exists(earlier.#token)',
    UpdateExpression: 'SET earlier.#token.executionId = :id',
    ExpressionAttributeNames: { '#token': clientToken },
    ExpressionAttributeValues: { ':id': executionId },
  };
}

/** Notes the execution a claimed start got (runbookExecutionNote), alone. Best effort. */
export async function recordRunbookExecution(
  incidentKey: string,
  rule: string,
  clientToken: string,
  executionId: string,
): Promise<void> {
  await documents
    .send(new UpdateCommand(runbookExecutionNote(incidentKey, rule, clientToken, executionId)))
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}
