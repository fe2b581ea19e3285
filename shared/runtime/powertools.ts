import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Built once per process; every module logs, traces and counts through these. */
const serviceName = 'ops-autopilot';

export const logger = new Logger({ serviceName });
export const tracer = new Tracer({ serviceName });
/** Namespace OpsAutopilot; dimensions stay low-cardinality (function, kind, severity): each set is billed. */
export const metrics = new Metrics({ namespace: 'OpsAutopilot', serviceName });
