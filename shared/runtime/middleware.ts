import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { correlationPaths } from '@aws-lambda-powertools/logger/correlationId';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { dynamodb } from '#shared/aws/dynamodb.ts';
import { config } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { stateKeyOwner, stateTable } from '#shared/state/table.ts';
import { deduplicationIsOn } from './deduplication.ts';
import { type EventIssue, EventRejected, type FunctionSpec, invocationSiteOf } from './functionSpec.ts';
import { DeadlineError, runInInvocation } from './invocation.ts';
import { runFunction } from './pipeline.ts';
import { logger, metrics, tracingMiddleware } from './powertools.ts';

/**
 * How long before Lambda's deadline middy gives up on the handler: time for the error path (logs,
 * metrics, releasing the idempotency record) to finish inside the invocation.
 */
export const TIMEOUT_EARLY_MS = 1_000;

/** A payload that is not an event this function handles. Thrown, so the delivery lands in the failure queue. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
  constructor(
    readonly functionName: string,
    readonly issues: EventIssue[],
  ) {
    super(`${functionName}: invalid event: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** The one way an event is refused, by its schema or by the stage's rules: counted, logged, named. */
function rejectEvent(functionName: string, issues: EventIssue[]): InvalidEventError {
  metrics.addMetric('InvalidEvent', MetricUnit.Count, 1);
  logger.error('invalid event', { issues });
  return new InvalidEventError(functionName, issues);
}

/** Parses the event with the function's schema; on failure counts InvalidEvent and throws, acting on nothing. */
function parseEvent<S extends z.ZodType>(functionName: string, schema: S): MiddlewareObj {
  return {
    before: (request) => {
      const parsed = schema.safeParse(request.event);
      if (parsed.success) {
        request.event = parsed.data;
        return;
      }
      throw rejectEvent(
        functionName,
        parsed.error.issues.map((i) => ({
          path: i.path.length > 0 ? i.path.join('.') : '(event)',
          message: i.message,
        })),
      );
    },
  };
}

/**
 * A repeated delivery of an event already handled or in progress. Counted so that its invocation, which
 * runs no pipeline, still publishes a metric (Powertools warns about an invocation that publishes none).
 */
function countDuplicate(): void {
  metrics.addMetric('DuplicateDeliveries', MetricUnit.Count, 1);
}

/** Network errors that mean no AWS endpoint answered (an emulator not started, a wrong URL). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH']);

/** What went wrong under a state-table failure, with what to do about it when the fix is known. */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  if (cause.name === 'CredentialsProviderError') {
    return `no AWS credentials: ${cause.message} (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`;
  }
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    return `no AWS endpoint answered: ${cause.message} (check AWS_ENDPOINT_URL, or start the emulator: npm run local:up)`;
  }
  return `${cause.name}: ${cause.message}`;
}

/**
 * The idempotency layer reports any state-table failure as "Failed to save in progress record..." and
 * keeps the reason (missing credentials, a wrong table name, an unreachable endpoint) in `cause`. The
 * error thrown leads with it, and keeps its type so retries and the failure queue see no change.
 */
function explainStateTableError(error: unknown): unknown {
  if (!(error instanceof IdempotencyPersistenceLayerError) || error.cause === undefined) return error;
  const reason = describeCause(error.cause);
  logger.error('state table unavailable', { table: config().stateTableName, reason, error: error.cause });
  // The cause first: "no AWS credentials" is what a person acts on, not the layer that met it.
  return new IdempotencyPersistenceLayerError(`${reason} (state table: ${error.message})`, {
    cause: error.cause,
  });
}

/**
 * Powertools 2.35's idempotency middleware deletes the record in onError even when its own before hook
 * refused the request because another delivery holds it (IdempotencyAlreadyInProgressError): a third
 * delivery would then run the pipeline a second time. Its onError runs here only for a request whose
 * before hook went through, i.e. one that really holds the record. Upstream: issue #5675 of
 * aws-powertools/powertools-lambda-typescript, fixed by PR #5676 (not in 2.35): drop this wrapper once
 * a release with the fix is pinned. State-table failures name their cause.
 */
function onlyIfAcquired(inner: MiddlewareObj): MiddlewareObj {
  const acquired = new WeakSet<object>();
  const explained = async <T>(hook: () => Promise<T> | T): Promise<T> => {
    try {
      return await hook();
    } catch (error) {
      throw explainStateTableError(error);
    }
  };
  return {
    before: async (request) => {
      if (!deduplicationIsOn()) return;
      try {
        const early = await explained(() => inner.before?.(request));
        acquired.add(request);
        return early;
      } catch (error) {
        // Refused while another delivery holds the event: counted like a repeat answered from the store.
        if (error instanceof IdempotencyAlreadyInProgressError) countDuplicate();
        throw error;
      }
    },
    after: async (request) => {
      if (acquired.has(request)) await explained(() => inner.after?.(request));
    },
    onError: async (request) => {
      if (acquired.has(request)) await explained(() => inner.onError?.(request));
    },
  };
}

/**
 * The Lambda handler of a function spec: the middy stack every function uses (logger, tracer, metrics,
 * parse, idempotency) around the pipeline, inside the invocation's deadline.
 */
export function lambdaHandler<S extends z.ZodType, Facts, Gathered, I extends Intent, Findings>(
  spec: FunctionSpec<S, Facts, Gathered, I, Findings>,
) {
  const fn = async (event: z.output<S>, context: Context): Promise<unknown> => {
    try {
      const result = await runFunction(spec, event, invocationSiteOf(context));
      return spec.respond ? spec.respond(result, event) : result;
    } catch (error) {
      if (error instanceof EventRejected) throw rejectEvent(spec.name, error.issues);
      throw error;
    }
  };
  // The handler runs inside its invocation's scope: SDK calls carry the abort signal middy fires
  // TIMEOUT_EARLY_MS before the deadline, and the pipeline checks the time left before each mutation.
  const bounded = (event: z.output<S>, context: Context, { signal }: { signal: AbortSignal }) =>
    runInInvocation(
      {
        signal,
        remainingMs: () =>
          typeof context.getRemainingTimeInMillis === 'function'
            ? context.getRemainingTimeInMillis() - TIMEOUT_EARLY_MS
            : Number.POSITIVE_INFINITY,
      },
      () => fn(event, context),
    );
  const handler = middy(bounded, {
    timeoutEarlyInMillis: TIMEOUT_EARLY_MS,
    timeoutEarlyResponse: () => {
      throw new DeadlineError(
        `${spec.name} ran out of time: stopped ${TIMEOUT_EARLY_MS} ms before the Lambda deadline; the delivery is retried`,
      );
    },
  })
    // Never the whole event, whatever POWERTOOLS_LOGGER_LOG_EVENT says: CloudTrail records carry access
    // key ids and source addresses. The decision log says what the event was about.
    .use(
      injectLambdaContext(logger, {
        resetKeys: true,
        logEvent: false,
        correlationIdPath: correlationPaths.EVENT_BRIDGE,
      }),
    )
    .use(tracingMiddleware())
    // A default dimension, not one added per invocation: it outlives each flush instead of being re-added
    // (and warned about) by every invocation. One function per Lambda process, so one value per process.
    .use(logMetrics(metrics, { captureColdStartMetric: true, defaultDimensions: { function: spec.name } }))
    .use(parseEvent(spec.name, spec.schema));
  if (spec.idempotency) {
    handler.use(
      onlyIfAcquired(
        makeHandlerIdempotent({
          // The function's name, as every other key of this function starts (IAM LeadingKeys).
          keyPrefix: stateKeyOwner(),
          persistenceStore: new DynamoDBPersistenceLayer({
            tableName: stateTable(),
            awsSdkV3Client: dynamodb,
          }),
          config: new IdempotencyConfig({
            eventKeyJmesPath: spec.idempotency.key,
            expiresAfterSeconds: config().idempotency.expiresAfterMinutes * 60,
            throwOnNoIdempotencyKey: spec.idempotency.optional !== true,
            // A repeated delivery answered from the store is counted, so its invocation publishes a metric.
            responseHook: (response) => {
              countDuplicate();
              return response;
            },
          }),
        }),
      ),
    );
  }
  return handler;
}
