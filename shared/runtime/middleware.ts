import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
} from '@aws-lambda-powertools/idempotency';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { correlationPaths } from '@aws-lambda-powertools/logger/correlationId';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { dynamodb } from '#shared/aws/dynamodb.ts';
import { ConfigError, config } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { actingSiteOf } from '#shared/organization/site.ts';
import type { FunctionSettings } from '#shared/stageSettings.ts';
import { writeActionLog } from '#shared/state/actionLog.ts';
import { DeliveryLeaseStore } from '#shared/state/deliveryLease.ts';
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

/** The stage's organization, if any; a stage that does not parse is reported by the pipeline, not here. */
function stageOrganization() {
  try {
    return config().organization;
  } catch (error) {
    if (error instanceof ConfigError) return undefined;
    throw error;
  }
}

/**
 * Parses the event with the function's schema, then checks it is in the function's scope (its account
 * and region); on failure counts InvalidEvent and throws, acting on nothing. It runs before the
 * idempotency middleware, so a refused event writes no record either.
 */
function parseEvent<S extends z.ZodType>(
  spec: Pick<FunctionSpec<S, unknown, unknown, Intent, unknown>, 'name' | 'schema' | 'scope'>,
): MiddlewareObj<unknown, unknown, Error, Context> {
  return {
    before: (request) => {
      const parsed = spec.schema.safeParse(request.event);
      if (!parsed.success) {
        throw rejectEvent(
          spec.name,
          parsed.error.issues.map((i) => ({
            path: i.path.length > 0 ? i.path.join('.') : '(event)',
            message: i.message,
          })),
        );
      }
      // On an organization's stage a member's event is in scope where it happened (shared/organization).
      const site = actingSiteOf(parsed.data, invocationSiteOf(request.context), stageOrganization());
      const outOfScope = spec.scope(parsed.data, site);
      if (outOfScope.length > 0) throw rejectEvent(spec.name, outOfScope);
      request.event = parsed.data;
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
 *
 * The idempotency middleware is built per request (`innerFor`), around that invocation's own store.
 */
function onlyIfAcquired(innerFor: (request: Request) => MiddlewareObj): MiddlewareObj {
  const acquired = new WeakMap<object, MiddlewareObj>();
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
      const inner = innerFor(request);
      try {
        const early = await explained(() => inner.before?.(request));
        acquired.set(request, inner);
        return early;
      } catch (error) {
        // Refused while another delivery holds the event: counted like a repeat answered from the store.
        if (error instanceof IdempotencyAlreadyInProgressError) countDuplicate();
        throw error;
      }
    },
    after: async (request) => {
      const inner = acquired.get(request);
      try {
        if (inner) await explained(() => inner.after?.(request));
      } finally {
        leases.get(request.context)?.release();
      }
    },
    onError: async (request) => {
      const inner = acquired.get(request);
      try {
        if (inner) await explained(() => inner.onError?.(request));
      } finally {
        leases.get(request.context)?.release();
      }
    },
  };
}

type Request = Parameters<NonNullable<MiddlewareObj['before']>>[0];

/** The delivery lease each invocation holds, by its Lambda context (one per invocation). */
const leases = new WeakMap<Context, DeliveryLeaseStore>();

/** This invocation's idempotency store: its request id and deadline bound its in-progress record. */
function deliveryLeaseOf(context: Context): DeliveryLeaseStore {
  const remaining =
    typeof context.getRemainingTimeInMillis === 'function'
      ? context.getRemainingTimeInMillis()
      : Number.POSITIVE_INFINITY;
  const store = new DeliveryLeaseStore({
    tableName: stateTable(),
    client: dynamodb,
    requestId: context.awsRequestId,
    deadline: Date.now() + remaining,
    onLost: () =>
      logger.warn('delivery lease lost: another delivery took the event over; no further action starts'),
  });
  leases.set(context, store);
  return store;
}

/**
 * The Lambda handler of a function spec: the middy stack every function uses (logger, tracer, metrics,
 * parse, idempotency) around the pipeline, inside the invocation's deadline.
 */
export function lambdaHandler<
  S extends z.ZodType,
  Facts,
  Gathered,
  I extends Intent,
  Findings,
  L extends readonly FunctionSettings[],
>(spec: FunctionSpec<S, Facts, Gathered, I, Findings, L>) {
  const fn = async (event: z.output<S>, context: Context): Promise<unknown> => {
    // The action log rides with the idempotency completion (one round trip) when this invocation holds
    // a delivery record; otherwise (no record, or deduplication off) the pipeline writes it.
    const lease = () => (deduplicationIsOn() ? leases.get(context) : undefined);
    try {
      const result = await runFunction(spec, event, invocationSiteOf(context), {
        logWithCompletion: (entries) => lease()?.completeWith(entries) ?? false,
      });
      return spec.respond ? spec.respond(result, event) : result;
    } catch (error) {
      // Deferred, but the delivery failed after all: the log is written now, before the retry.
      const unwritten = lease()?.takeUnwritten() ?? [];
      if (unwritten.length > 0) await writeActionLog(unwritten);
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
        // Before Lambda's deadline, and while this delivery still holds its event (see DeliveryLeaseStore).
        remainingMs: () =>
          Math.min(
            typeof context.getRemainingTimeInMillis === 'function'
              ? context.getRemainingTimeInMillis() - TIMEOUT_EARLY_MS
              : Number.POSITIVE_INFINITY,
            leases.get(context)?.remainingMs() ?? Number.POSITIVE_INFINITY,
          ),
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
    .use(parseEvent(spec));
  if (spec.idempotency) {
    const { idempotency } = spec;
    handler.use(
      onlyIfAcquired((request) =>
        makeHandlerIdempotent({
          // The function's name, as every other key of this function starts (IAM LeadingKeys).
          keyPrefix: stateKeyOwner(),
          persistenceStore: deliveryLeaseOf(request.context),
          config: new IdempotencyConfig({
            eventKeyJmesPath: idempotency.key,
            expiresAfterSeconds: config().idempotency.expiresAfterMinutes * 60,
            throwOnNoIdempotencyKey: idempotency.optional !== true,
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
