import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
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
  | { allowed: false; starts: number; windowEndsAt: number; earlier: EarlierStart[] };

export interface StartRequest {
  incidentKey: string;
  rule: string;
  clientToken: string;
  correlationId: string;
  maxStarts: number;
  cooldownSeconds: number;
}

const keyOf = (incidentKey: string, rule: string) => stateKey('runbook-starts', incidentKey, rule);

export async function claimRunbookStart(r: StartRequest): Promise<StartClaim> {
  const id = keyOf(r.incidentKey, r.rule);
  const now = nowSeconds();
  const entry: EarlierStart = { correlationId: r.correlationId, at: now };
  const tokenSet = new Set([r.clientToken]);
  try {
    // No record, or its cooldown is over: this start opens a new window.
    await documents.send(
      new UpdateCommand({
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
      }),
    );
    return { allowed: true };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  try {
    // Inside the window: one more start while under the limit, unless this transition already has one.
    await documents.send(
      new UpdateCommand({
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
      }),
    );
    return { allowed: true };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id }, ConsistentRead: true }),
  );
  const current = res.Item as StartsRecord | undefined;
  // The same transition claimed this slot before (a retry, or another delivery of it).
  if (current?.tokens?.has(r.clientToken)) return { allowed: true };
  return {
    allowed: false,
    starts: current?.starts ?? 0,
    windowEndsAt: current?.windowEndsAt ?? now,
    earlier: Object.values(current?.earlier ?? {}).sort((a, b) => a.at - b.at),
  };
}

/** Notes the execution a claimed start got, so a refused start can name it. Best effort. */
export async function recordRunbookExecution(
  incidentKey: string,
  rule: string,
  clientToken: string,
  executionId: string,
): Promise<void> {
  await documents
    .send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: keyOf(incidentKey, rule) },
        ConditionExpression: 'attribute_exists(earlier.#token)',
        UpdateExpression: 'SET earlier.#token.executionId = :id',
        ExpressionAttributeNames: { '#token': clientToken },
        ExpressionAttributeValues: { ':id': executionId },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}
