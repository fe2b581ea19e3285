import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyRecordStatus,
  PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ActionLogEntry } from './actionLog.ts';
import { isConditionalFailure } from './table.ts';

/**
 * How long an in-progress record holds a delivery without a word from its holder. Shorter than the
 * minute Lambda waits before it retries a failed asynchronous invocation
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), so a delivery
 * that ended without releasing its record never refuses its own retry; longer than the largest
 * mutation budget (stop instances, 30 s) plus a renewal, so a live holder can always start one.
 */
export const LEASE_MS = 45_000;
/** How often a live holder extends its lease, from whatever is left of it. */
export const RENEW_EVERY_MS = 5_000;

/** The Lambda request id of the invocation that wrote the in-progress record (Powertools keeps none). */
const HOLDER_ATTRIBUTE = 'in_progress_request_id';
const {
  statusAttr: STATUS,
  expiryAttr: EXPIRY,
  inProgressExpiryAttr: IN_PROGRESS_EXPIRY,
} = PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS;
const KEY = 'id';
/** TransactWriteItems takes at most 100 items: the completion and 99 records written with it. */
export const MAX_RECORDS_WITH_COMPLETION = 99;

export interface DeliveryLeaseOptions {
  tableName: string;
  client: DynamoDBClient;
  /** This invocation's Lambda request id: a Lambda retry has a new one, an SDK retry the same. */
  requestId: string;
  /** Lambda's deadline for this invocation, epoch ms: no lease outlives it. */
  deadline: number;
  /** Told once when a renewal finds the record no longer this invocation's. */
  onLost?: () => void;
}

/**
 * Powertools' DynamoDB idempotency store (2.35) with two changes to its in-progress record.
 *
 * Upstream writes INPROGRESS with `in_progress_expiration` = now + the Lambda's remaining time, and
 * refuses every other writer until then
 * (https://docs.aws.amazon.com/powertools/typescript/latest/features/idempotency/, "Handling
 * concurrent executions", and DynamoDBPersistenceLayer._putRecord in
 * https://github.com/aws-powertools/powertools-lambda-typescript/tree/main/packages/idempotency/src/persistence).
 * On a 300 s function that outlives both of Lambda's retries of a delivery that died holding it, and
 * the SDK's own retry of a PutItem whose answer was lost finds the invocation's own record and is
 * refused as "already in progress". So:
 *
 * - the record names the invocation that wrote it; a conditional failure on a record this invocation
 *   wrote is its own earlier attempt of the same PutItem, and the write stands;
 * - it is a lease of LEASE_MS, which the live holder renews every RENEW_EVERY_MS, never past its
 *   Lambda deadline. A concurrent duplicate finds a live lease and is refused, as upstream; a retry
 *   after a holder that died finds it expired and takes the delivery over. The holder's time left
 *   (`remainingMs`) ends with its confirmed lease, so it starts no mutation it could not finish
 *   before another delivery may take over; a holder whose lease was taken over is told (`onLost`),
 *   and it never deletes the new holder's record.
 *
 * One instance per invocation: it holds that invocation's request id and lease.
 */
export class DeliveryLeaseStore extends DynamoDBPersistenceLayer {
  readonly #table: string;
  readonly #client: DynamoDBClient;
  readonly #requestId: string;
  readonly #deadline: number;
  readonly #onLost: (() => void) | undefined;
  #key: Record<string, AttributeValue> | undefined;
  /** The end of the lease DynamoDB confirmed, epoch ms; 0 when none is held. */
  #leaseUntil = 0;
  #renewal: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  /** Records to write in the completion's round trip (the delivery's action log), see completeWith. */
  #withCompletion: ActionLogEntry[] = [];
  /** Set while upstream's _updateRecord runs: its UpdateItem is taken here instead of sent. */
  readonly #intercept: { update?: (command: UpdateItemCommand) => Promise<void> };

  constructor(options: DeliveryLeaseOptions) {
    const intercept: { update?: (command: UpdateItemCommand) => Promise<void> } = {};
    // Upstream's layer sends through this client; the completion's UpdateItem can be diverted, so the
    // record keeps exactly upstream's format and expression while it travels in a transaction.
    const client = new Proxy(options.client, {
      get(target, property) {
        if (property === 'send') {
          return (command: unknown, ...rest: unknown[]) =>
            intercept.update && command instanceof UpdateItemCommand
              ? intercept.update(command)
              : (target.send as (...args: unknown[]) => Promise<unknown>).call(target, command, ...rest);
        }
        return Reflect.get(target, property, target);
      },
    });
    super({ tableName: options.tableName, awsSdkV3Client: client });
    this.#intercept = intercept;
    this.#table = options.tableName;
    this.#client = options.client;
    this.#requestId = options.requestId;
    this.#deadline = options.deadline;
    this.#onLost = options.onLost;
  }

  /**
   * Time left before another delivery may take this one over: unbounded for a delivery that wrote no
   * record (a manual invoke without an id), 0 once its lease is lost or released.
   */
  remainingMs(): number {
    if (!this.#key) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.#leaseUntil - Date.now());
  }

  /** Stops renewing: the record is about to be completed or deleted, or the invocation is over. */
  release(): void {
    if (this.#renewal) clearInterval(this.#renewal);
    this.#renewal = undefined;
    this.#leaseUntil = 0;
  }

  #leaseEnd(): number {
    return Math.min(Date.now() + LEASE_MS, this.#deadline);
  }

  override async saveInProgress(data: Parameters<DynamoDBPersistenceLayer['saveInProgress']>[0]) {
    // The lease, not the Lambda's remaining time (upstream's argument, read from a shared config).
    await super.saveInProgress(data, Math.max(1, this.#leaseEnd() - Date.now()));
  }

  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    const key = this.getKey(record.idempotencyKey);
    const until = record.inProgressExpiryTimestamp ?? this.#leaseEnd();
    const item: Record<string, AttributeValue> = {
      ...key,
      [STATUS]: { S: record.getStatus() },
      [IN_PROGRESS_EXPIRY]: { N: String(until) },
      [HOLDER_ATTRIBUTE]: { S: this.#requestId },
    };
    if (record.expiryTimestamp !== undefined) item[EXPIRY] = { N: String(record.expiryTimestamp) };
    if (this.isPayloadValidationEnabled() && record.payloadHash) {
      item[PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS.validationKeyAttr] = { S: record.payloadHash };
    }
    const now = Date.now();
    try {
      // Upstream's condition: no record, an expired record, or an in-progress record whose lease ended.
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression:
            'attribute_not_exists(#id) OR #expiry < :now OR ' +
            '(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
          ExpressionAttributeNames: {
            '#id': KEY,
            '#expiry': EXPIRY,
            '#status': STATUS,
            '#in_progress_expiry': IN_PROGRESS_EXPIRY,
          },
          ExpressionAttributeValues: {
            ':now': { N: String(now / 1000) },
            ':now_in_millis': { N: String(now) },
            ':inprogress': { S: IdempotencyRecordStatus.INPROGRESS },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const old = (error as { Item?: Record<string, AttributeValue> }).Item ?? (await this.#read(key));
      const existing = old && unmarshall(old);
      if (
        existing?.[STATUS] !== IdempotencyRecordStatus.INPROGRESS ||
        existing[HOLDER_ATTRIBUTE] !== this.#requestId
      ) {
        // Another delivery's record: upstream answers from it (a stored result, or in progress).
        throw new IdempotencyItemAlreadyExistsError(
          `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
          existing && recordOf(existing),
        );
      }
      // This invocation's own record: the SDK retried a PutItem whose answer was lost. It holds the lease
      // that first attempt wrote (the retry sent the same item).
    }
    this.#key = key;
    this.#leaseUntil = until;
    this.#renewal = setInterval(() => void this.#renew(), RENEW_EVERY_MS);
    // Never keeps a finished process alive; Lambda freezes it between invocations anyway.
    this.#renewal.unref();
  }

  /**
   * Writes `records` (the delivery's action log) in the same round trip as the completion of the
   * idempotency record, a TransactWriteItems of both: either the delivery is recorded as done with its
   * decisions, or neither. False when this invocation holds no record to complete or there are too many
   * records for one transaction: the caller writes them itself.
   */
  completeWith(records: ActionLogEntry[]): boolean {
    if (!this.#key || this.#leaseUntil === 0 || records.length > MAX_RECORDS_WITH_COMPLETION) return false;
    this.#withCompletion = records;
    return true;
  }

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.release();
    const records = this.#withCompletion.splice(0);
    if (records.length === 0) return super._updateRecord(record);
    // A renewal still in flight on the same item would cancel the transaction (TransactionConflict).
    await this.#renewing;
    let completion: UpdateItemCommand['input'] | undefined;
    this.#intercept.update = async (command) => {
      completion = command.input;
    };
    try {
      // Upstream builds its UpdateItem (status COMPLETED, the response, the expiry; no condition).
      await super._updateRecord(record);
    } finally {
      this.#intercept.update = undefined;
    }
    if (!completion?.UpdateExpression) {
      throw new Error('the idempotency layer built no completion of the delivery');
    }
    const {
      Key,
      UpdateExpression,
      ConditionExpression,
      ExpressionAttributeNames,
      ExpressionAttributeValues,
    } = completion;
    await this.#client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.#table,
              Key: Key ?? this.getKey(record.idempotencyKey),
              UpdateExpression,
              ConditionExpression,
              ExpressionAttributeNames,
              ExpressionAttributeValues,
            },
          },
          ...records.map((item) => ({
            Put: { TableName: this.#table, Item: marshall(item, { removeUndefinedValues: true }) },
          })),
        ],
      }),
    );
  }

  /** Records handed to completeWith that no completion wrote (the delivery failed after all). */
  takeUnwritten(): ActionLogEntry[] {
    return this.#withCompletion.splice(0);
  }

  protected override async _deleteRecord(_record: IdempotencyRecord): Promise<void> {
    this.release();
    if (!this.#key) return;
    try {
      // Only this invocation's record: after a lost lease it belongs to the delivery that took over.
      await this.#client.send(
        new DeleteItemCommand({
          TableName: this.#table,
          Key: this.#key,
          ConditionExpression: '#holder = :holder',
          ExpressionAttributeNames: { '#holder': HOLDER_ATTRIBUTE },
          ExpressionAttributeValues: { ':holder': { S: this.#requestId } },
        }),
      );
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }

  #renew(): Promise<void> {
    if (this.#renewing || !this.#key || this.#leaseUntil === 0) return Promise.resolve();
    this.#renewing = this.#extend(this.#key).finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #extend(key: Record<string, AttributeValue>): Promise<void> {
    const until = this.#leaseEnd();
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: 'SET #in_progress_expiry = :lease_until',
          ConditionExpression: '#status = :inprogress AND #holder = :holder',
          ExpressionAttributeNames: {
            '#in_progress_expiry': IN_PROGRESS_EXPIRY,
            '#status': STATUS,
            '#holder': HOLDER_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':lease_until': { N: String(until) },
            ':inprogress': { S: IdempotencyRecordStatus.INPROGRESS },
            ':holder': { S: this.#requestId },
          },
        }),
      );
      // Released meanwhile (completed or deleted): nothing is held any more.
      if (this.#renewal) this.#leaseUntil = Math.max(this.#leaseUntil, until);
    } catch (error) {
      if (isConditionalFailure(error) && this.#renewal) {
        this.release();
        this.#onLost?.();
      }
      // Any other failure: the lease confirmed so far still stands; the next tick tries again.
    }
  }

  async #read(key: Record<string, AttributeValue>): Promise<Record<string, AttributeValue> | undefined> {
    const { Item } = await this.#client.send(
      new GetItemCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
    );
    return Item;
  }
}

/** The stored record as upstream's layer reads it (DynamoDBPersistenceLayer._getRecord). */
function recordOf(item: Record<string, unknown>): IdempotencyRecord {
  const { dataAttr, validationKeyAttr } = PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS;
  return new IdempotencyRecord({
    idempotencyKey: item[KEY] as string,
    status: item[STATUS] as IdempotencyRecord['status'],
    expiryTimestamp: item[EXPIRY] as number | undefined,
    inProgressExpiryTimestamp: item[IN_PROGRESS_EXPIRY] as number | undefined,
    responseData: item[dataAttr] as IdempotencyRecord['responseData'],
    payloadHash: item[validationKeyAttr] as string | undefined,
  });
}
