import { GetCommand, PutCommand, type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { config } from '#shared/config.ts';
import type { Severity } from '#shared/domain/severity.ts';
import { truncated } from '#shared/domain/text.ts';
import { DAY, isConditionalFailure, nowSeconds, sharedStatePrefixOf, stateTable } from './table.ts';

/**
 * The runbook executions this system started, one record per execution id. SSM's status-change event
 * does not carry the execution's tags, so this record is how onRunbookResult knows an execution is
 * ours and what it was for: onAlarm writes it once after StartAutomationExecution returns, with the
 * incident's page it links, in the round trip that marks that page sent (or alone, when no page went
 * out); onRunbookResult claims each result's notice on it, and the claim returns the record.
 *
 * Two functions share these records, so their keys do not start with a function's name but with the
 * stack's (`ops-autopilot-<stage>#shared#automation#<execution id>`), and IAM grants exactly that prefix
 * (`dynamodb:LeadingKeys`) to the writer and the reader, beside their own.
 */

/** The kind of shared record, after `#shared#` in the key and in the IAM grant. */
export const AUTOMATION_RECORD_KIND = 'automation';

export const automationRecordKey = (executionId: string): string =>
  `${sharedStatePrefixOf(config().stage)}#${AUTOMATION_RECORD_KIND}#${executionId}`;

/** A failed runbook may be looked at for days; its record outlives any retry of its result event. */
const RETENTION = 14 * DAY;

/** The signal that made onAlarm start the runbook, as its page named it. */
export interface OriginalSignal {
  kind: string;
  title: string;
  /** The alarm's reason, shortened: the page of the result repeats it, not the whole evidence. */
  summary: string;
  /** When the alarm changed state (its state timestamp). */
  occurredAt: string;
  /** The resource the signal is about (the alarm), with its ARN. */
  resource?: { type: string; id: string; arn?: string };
  /** The console links the original page had (the alarm). */
  links: { label: string; url: string }[];
}

export interface AutomationExecutionRecord {
  executionId: string;
  document: string;
  rule: string;
  incidentKey: string;
  /** The delivery that started it: the thread to the original decision in logs and the action log. */
  correlationId: string;
  account: string;
  region: string;
  signal: OriginalSignal;
  /** The original page's severity (the signal's until the page is linked). */
  severity: Severity;
  /** The page of the incident, once linked: the result's page names it. */
  pageId?: string;
  /** Epoch seconds. */
  startedAt: number;
}

/** What a result's notice holds on the record: who claimed it and whether it went out. */
export interface ResultClaim {
  claimedBy: string;
  sentAt?: number;
}

/** As stored: the record, and one `result-<Status>` claim per result notified (see resultClaimOf). */
export type StoredAutomationExecution = AutomationExecutionRecord;

const SUMMARY_LIMIT = 1024;

/** One put of a transaction (document client form). */
export type TransactPut = NonNullable<NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Put']>;

/**
 * The record's one write, as a put that holds only if the record does not exist: a retried delivery gets
 * the same execution back from SSM (same ClientToken) and must not overwrite the result claims made since.
 */
export function automationRecordPut(record: AutomationExecutionRecord): TransactPut {
  const summary = truncated(record.signal.summary, SUMMARY_LIMIT);
  return {
    TableName: stateTable(),
    Item: {
      id: automationRecordKey(record.executionId),
      type: 'automation-execution',
      ...record,
      signal: { ...record.signal, summary },
      expiration: nowSeconds() + RETENTION,
    },
    ConditionExpression: 'attribute_not_exists(id)',
  };
}

/** Records an execution once (see automationRecordPut): false when it was recorded before. */
export async function recordAutomationExecution(record: AutomationExecutionRecord): Promise<boolean> {
  try {
    await documents.send(new PutCommand(automationRecordPut(record)));
    return true;
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    return false;
  }
}

/** Links the incident's page (its page id and severity) to the execution its decision started. */
export async function linkAutomationPage(
  executionId: string,
  pageId: string,
  severity: Severity,
): Promise<void> {
  await documents
    .send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: automationRecordKey(executionId) },
        ConditionExpression: 'attribute_exists(id)',
        UpdateExpression: 'SET pageId = :page, severity = :sev',
        ExpressionAttributeValues: { ':page': pageId, ':sev': severity },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}

/** The execution's record, or undefined when this system did not start it (read-only, for gather). */
export async function readAutomationExecution(
  executionId: string,
): Promise<StoredAutomationExecution | undefined> {
  const res = await documents.send(
    new GetCommand({
      TableName: stateTable(),
      Key: { id: automationRecordKey(executionId) },
      ConsistentRead: true,
    }),
  );
  const item = res.Item as StoredAutomationExecution | undefined;
  return typeof item?.executionId === 'string' && typeof item.incidentKey === 'string' ? item : undefined;
}

/** The attribute that holds one result's claim (`result-Failed`): top level, so one write claims it. */
const resultAttribute = (status: string) => `result-${status}`;

/** The claim of one result on a stored record, if any. */
export function resultClaimOf(record: StoredAutomationExecution, status: string): ResultClaim | undefined {
  return (record as unknown as Record<string, ResultClaim | undefined>)[resultAttribute(status)];
}

/** What claiming a result's notice found: the record as it stands, when there is one. */
export type ResultClaimAnswer =
  /** Claimed: the record, with this claim (DynamoDB returns it; absent only if it lacks its fields). */
  | { claimed: true; record?: StoredAutomationExecution }
  /** Not claimed: another delivery holds it (`record`), or no record is this account's and region's. */
  | { claimed: false; record?: StoredAutomationExecution };

const storedExecutionOf = (
  item: Record<string, unknown> | undefined,
): StoredAutomationExecution | undefined =>
  typeof item?.executionId === 'string' && typeof item.incidentKey === 'string'
    ? (item as unknown as StoredAutomationExecution)
    : undefined;

/**
 * Claims the notice of one result (execution and status) on the execution's record, which the write
 * returns: no read precedes it. Not claimed when another delivery claimed it, or when no record of this
 * account and region exists (not an execution this system started: nothing is written). This delivery's
 * own retry claims it again until its notice is recorded as sent.
 */
export async function claimAutomationResult(
  executionId: string,
  status: string,
  correlationId: string,
  where: { account: string; region: string },
): Promise<ResultClaimAnswer> {
  try {
    const res = await documents.send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: automationRecordKey(executionId) },
        ConditionExpression:
          'attribute_exists(id) AND #account = :account AND #region = :region AND (attribute_not_exists(#r) OR (#r.claimedBy = :cid AND attribute_not_exists(#r.sentAt)))',
        UpdateExpression: 'SET #r = :claim',
        ExpressionAttributeNames: {
          '#r': resultAttribute(status),
          '#account': 'account',
          '#region': 'region',
        },
        ExpressionAttributeValues: {
          ':claim': { claimedBy: correlationId },
          ':cid': correlationId,
          ':account': where.account,
          ':region': where.region,
        },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const record = storedExecutionOf(res.Attributes);
    return record ? { claimed: true, record } : { claimed: true };
  } catch (error) {
    if (!isConditionalFailure(error)) throw error;
    // The document client leaves the refused write's item as DynamoDB sent it.
    const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    const record = storedExecutionOf(item ? unmarshall(item) : undefined);
    return record ? { claimed: false, record } : { claimed: false };
  }
}

export async function markAutomationResultSent(
  executionId: string,
  status: string,
  correlationId: string,
): Promise<void> {
  await documents.send(
    new UpdateCommand({
      TableName: stateTable(),
      Key: { id: automationRecordKey(executionId) },
      ConditionExpression: '#r.claimedBy = :cid',
      UpdateExpression: 'SET #r.sentAt = :now',
      ExpressionAttributeNames: { '#r': resultAttribute(status) },
      ExpressionAttributeValues: { ':cid': correlationId, ':now': nowSeconds() },
    }),
  );
}

/** Undoes a claim whose notice SNS refused, so the next delivery of the result can send it. */
export async function releaseAutomationResult(
  executionId: string,
  status: string,
  correlationId: string,
): Promise<void> {
  await documents
    .send(
      new UpdateCommand({
        TableName: stateTable(),
        Key: { id: automationRecordKey(executionId) },
        ConditionExpression: '#r.claimedBy = :cid AND attribute_not_exists(#r.sentAt)',
        UpdateExpression: 'REMOVE #r',
        ExpressionAttributeNames: { '#r': resultAttribute(status) },
        ExpressionAttributeValues: { ':cid': correlationId },
      }),
    )
    .catch((error: unknown) => {
      if (!isConditionalFailure(error)) throw error;
    });
}
