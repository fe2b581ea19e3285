import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { DAY, isConditionalFailure, nowSeconds, stateTable } from './table.ts';

/**
 * One page per incident per window. A record per incident key holds the window, who paged, whether
 * the page went out, how many repeats were swallowed and whether a resolve notice was sent.
 * Every transition is a conditional write, so concurrent deliveries cannot both page.
 */
export interface SuppressionWindow {
  id: string;
  windowEndsAt: number;
  pagedBy: string;
  pageSentAt?: number;
  repeats: number;
  lastCorrelationId: string;
  resolvedBy?: string;
  resolvedAt?: number;
  resolveSentAt?: number;
}

export type OpenDecision =
  | { action: 'page'; repeatsBefore: number }
  | { action: 'suppress'; repeats: number; counted: boolean };

export type ResolveDecision = { action: 'resolve'; repeats: number } | { action: 'skip'; why: string };

const keyOf = (incidentKey: string) => `page#${incidentKey}`;
const RETENTION = 7 * DAY;

async function read(id: string): Promise<SuppressionWindow | undefined> {
  const res = await documents.send(
    new GetCommand({ TableName: stateTable(), Key: { id }, ConsistentRead: true }),
  );
  return res.Item as SuppressionWindow | undefined;
}

/** Opens a window and says "page", or counts a repeat inside the open window and says "suppress". */
export async function openWindow(
  incidentKey: string,
  correlationId: string,
  windowSeconds: number,
): Promise<OpenDecision> {
  const id = keyOf(incidentKey);
  const now = nowSeconds();
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        ConditionExpression: 'attribute_not_exists(id) OR windowEndsAt < :now',
        UpdateExpression:
          'SET windowEndsAt = :end, pagedBy = :cid, lastCorrelationId = :cid, repeats = :zero, expiration = :ttl REMOVE pageSentAt, resolvedAt, resolvedBy, resolveSentAt',
        ExpressionAttributeValues: {
          ':now': now,
          ':end': now + windowSeconds,
          ':cid': correlationId,
          ':zero': 0,
          ':ttl': now + Math.max(windowSeconds, RETENTION),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = res.Attributes as SuppressionWindow | undefined;
    return { action: 'page', repeatsBefore: old?.repeats ?? 0 };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  const current = await read(id);
  // Our own earlier attempt opened the window but never sent the page (crash, timeout): send it now.
  if (current && current.pagedBy === correlationId && current.pageSentAt === undefined) {
    return { action: 'page', repeatsBefore: 0 };
  }
  // A retry of a delivery we already counted: do not count it twice.
  if (!current || current.lastCorrelationId === correlationId) {
    return { action: 'suppress', repeats: current?.repeats ?? 0, counted: false };
  }
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        ConditionExpression: 'lastCorrelationId <> :cid',
        // A repeat after a resolve notice re-opens the incident, so its end is announced again.
        UpdateExpression:
          'SET lastCorrelationId = :cid ADD repeats :one REMOVE resolvedAt, resolvedBy, resolveSentAt',
        ExpressionAttributeValues: { ':cid': correlationId, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { action: 'suppress', repeats: (res.Attributes as SuppressionWindow).repeats, counted: true };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return { action: 'suppress', repeats: current.repeats, counted: false };
  }
}

export async function markPageSent(incidentKey: string, correlationId: string): Promise<void> {
  await documents.send(
    new UpdateCommand({
      TableName: stateTable(),
      Key: { id: keyOf(incidentKey) },
      ConditionExpression: 'pagedBy = :cid',
      UpdateExpression: 'SET pageSentAt = :now',
      ExpressionAttributeValues: { ':cid': correlationId, ':now': nowSeconds() },
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
        UpdateExpression: 'SET windowEndsAt = :zero',
        ExpressionAttributeValues: { ':cid': correlationId, ':zero': 0 },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}

/** Claims the resolve notice for a paged incident; only the first OK after a page resolves it. */
export async function claimResolve(incidentKey: string, correlationId: string): Promise<ResolveDecision> {
  const id = keyOf(incidentKey);
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id },
        ConditionExpression: 'attribute_exists(pageSentAt) AND attribute_not_exists(resolvedBy)',
        UpdateExpression: 'SET resolvedBy = :cid, resolvedAt = :now',
        ExpressionAttributeValues: { ':cid': correlationId, ':now': nowSeconds() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { action: 'resolve', repeats: (res.Attributes as SuppressionWindow).repeats };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
  }
  const current = await read(id);
  if (current?.resolvedBy === correlationId && current.resolveSentAt === undefined) {
    return { action: 'resolve', repeats: current.repeats };
  }
  if (!current || current.pageSentAt === undefined)
    return { action: 'skip', why: 'no page was sent for this incident' };
  return { action: 'skip', why: 'the resolve notice was already sent' };
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
        UpdateExpression: 'REMOVE resolvedBy, resolvedAt',
        ExpressionAttributeValues: { ':cid': correlationId },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}
