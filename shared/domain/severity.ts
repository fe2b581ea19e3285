import { z } from 'zod';

/**
 * How urgent a page is. A schema, not only a type: stage settings validate it, and onAlarm reads it from
 * an alarm's `severity` tag. It lives here, apart from the configuration, so the domain, the executors
 * and each function's settings can share it without importing one another.
 */
export const Severity = z.enum(['critical', 'high', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;
