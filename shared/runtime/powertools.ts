import { Logger } from '@aws-lambda-powertools/logger';
import { correlationPaths, search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

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
export const tracer = new Tracer({ serviceName });
/** Namespace OpsAutopilot; dimensions stay low-cardinality (function, kind, severity): each set is billed. */
// Its own warnings (e.g. an invocation that counted nothing) go through the logger, at its level,
// instead of straight to the console.
export const metrics = new Metrics({ namespace: 'OpsAutopilot', serviceName, logger });
