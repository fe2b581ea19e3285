import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Built once per process; every module logs, traces and counts through these. */
const serviceName = 'ops-autopilot';

// correlationIdSearchFn lets injectLambdaContext take the correlation id from the event (EventBridge: `id`).
export const logger = new Logger({ serviceName, correlationIdSearchFn: search });
export const tracer = new Tracer({ serviceName });
/** Namespace OpsAutopilot; dimensions stay low-cardinality (function, kind, severity): each set is billed. */
// Its own warnings (e.g. an invocation that counted nothing) go through the logger, at its level,
// instead of straight to the console.
export const metrics = new Metrics({ namespace: 'OpsAutopilot', serviceName, logger });
