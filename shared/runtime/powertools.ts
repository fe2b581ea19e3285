import { Logger } from '@aws-lambda-powertools/logger';
import { correlationPaths, search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Built once per process; every module logs, traces and counts through these. */
const serviceName = 'ops-autopilot';

/**
 * How injectLambdaContext takes the correlation id from the event. Every function reads EventBridge's
 * top-level `id` (correlationPaths.EVENT_BRIDGE): read directly, since a JMESPath search per invocation
 * costs more than the rest of parsing a small event; any other path goes through JMESPath.
 */
function correlationIdOf(expression: string, data: unknown): unknown {
  if (expression === correlationPaths.EVENT_BRIDGE) {
    return typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
  }
  return search(expression, data);
}

export const logger = new Logger({ serviceName, correlationIdSearchFn: correlationIdOf });
export const tracer = new Tracer({ serviceName });
/** Namespace OpsAutopilot; dimensions stay low-cardinality (function, kind, severity): each set is billed. */
// Its own warnings (e.g. an invocation that counted nothing) go through the logger, at its level,
// instead of straight to the console.
export const metrics = new Metrics({ namespace: 'OpsAutopilot', serviceName, logger });
