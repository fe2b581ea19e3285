import { Logger } from '@aws-lambda-powertools/logger';
import { correlationPaths, search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import { tracingEnabled } from '#shared/config.ts';

/** Built once per process; every module logs, traces and counts through these. */
const serviceName = 'ops-autopilot';

/** EventBridge event ids as the envelope schema accepts them: 1 to 128 printable ASCII characters. */
const EVENT_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * How injectLambdaContext takes the correlation id from the event. Every function reads EventBridge's
 * top-level `id` (correlationPaths.EVENT_BRIDGE): read directly, since a JMESPath search per invocation
 * costs more than the rest of parsing a small event; any other path goes through JMESPath.
 */
function correlationIdOf(expression: string, data: unknown): unknown {
  if (expression === correlationPaths.EVENT_BRIDGE) {
    const id = typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
    // Read before the event is validated: only an id shaped like EventBridge's (the schema's RecordId)
    // becomes every log line's correlation id, never a crafted 2 KB string.
    return typeof id === 'string' && EVENT_ID.test(id) ? id : undefined;
  }
  return search(expression, data);
}

export const logger = new Logger({ serviceName, correlationIdSearchFn: correlationIdOf });

/** What the code uses of the tracer: SDK clients as subsegments, annotations on the handler's segment. */
export interface OpsTracer {
  captureAWSv3Client<T>(client: T): T;
  putAnnotation(key: string, value: string | number | boolean): void;
}

// The Powertools tracer brings the X-Ray SDK, a sizeable share of every cold start, and does nothing
// when tracing is off: it is loaded only when tracing is on, by the first invocation's tracing
// middleware (before any SDK call), which then captures the clients built before it.
const tracing = tracingEnabled();
let loaded: Tracer | undefined;
const clientsToCapture: unknown[] = [];

export const tracer: OpsTracer = {
  captureAWSv3Client(client) {
    if (loaded) return loaded.captureAWSv3Client(client);
    if (tracing) clientsToCapture.push(client);
    return client;
  },
  putAnnotation(key, value) {
    loaded?.putAnnotation(key, value);
  },
};

async function loadTracer(): Promise<MiddlewareObj> {
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  loaded ??= new Tracer({ serviceName });
  for (const client of clientsToCapture.splice(0)) loaded.captureAWSv3Client(client);
  return captureLambdaHandler(loaded);
}

/** Powertools' captureLambdaHandler when tracing is on, loaded by the first invocation; none otherwise. */
export function tracingMiddleware(): MiddlewareObj[] {
  if (!tracing) return [];
  let capture: MiddlewareObj | undefined;
  return [
    {
      before: async (request) => {
        capture ??= await loadTracer();
        await capture.before?.(request);
      },
      after: async (request) => capture?.after?.(request),
      onError: async (request) => capture?.onError?.(request),
    },
  ];
}
/** Namespace OpsAutopilot; dimensions stay low-cardinality (function, kind, severity): each set is billed. */
// Its own warnings (e.g. an invocation that counted nothing) go through the logger, at its level,
// instead of straight to the console.
export const metrics = new Metrics({ namespace: 'OpsAutopilot', serviceName, logger });
