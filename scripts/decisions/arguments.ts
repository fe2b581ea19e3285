/**
 * The command line of `npm run decisions`. A mistyped flag or `--help` answers with the usage line
 * instead of Node's stack trace from `parseArgs`.
 */
import { parseArgs } from 'node:util';
import { parseSince } from '#shared/state/actionLogQuery.ts';

export const DECISIONS_USAGE =
  'usage: npm run decisions -- [--approvals] [--incident KEY] [--since 30m|1h|7d] [--limit 1..1000] [--stage NAME | --table NAME]';

export interface DecisionsOptions {
  /** List the pending and expired approvals instead of the decisions. */
  approvals?: boolean | undefined;
  incident?: string | undefined;
  stage?: string | undefined;
  table?: string | undefined;
}

export type DecisionsArguments =
  | { kind: 'help'; usage: string }
  | { kind: 'usage-error'; message: string; usage: string }
  | { kind: 'query'; sinceMs: number; limit: number; options: DecisionsOptions };

export function decisionsArguments(args: string[]): DecisionsArguments {
  let values: {
    incident?: string;
    since: string;
    limit: string;
    stage?: string;
    table?: string;
    help?: boolean;
    approvals?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        incident: { type: 'string' },
        since: { type: 'string', default: '24h' },
        limit: { type: 'string', default: '20' },
        stage: { type: 'string' },
        table: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        approvals: { type: 'boolean' },
      },
    }));
  } catch (error) {
    // parseArgs names the unknown option or the missing value in its message.
    return { kind: 'usage-error', message: (error as Error).message, usage: DECISIONS_USAGE };
  }
  if (values.help) return { kind: 'help', usage: DECISIONS_USAGE };
  const sinceMs = parseSince(values.since);
  if (sinceMs === undefined) {
    const message = `--since: must be a number and m, h or d, such as 1h; got ${JSON.stringify(values.since.slice(0, 50))}`;
    return { kind: 'usage-error', message, usage: DECISIONS_USAGE };
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    const message = `--limit: must be an integer from 1 to 1000; got ${JSON.stringify(values.limit.slice(0, 50))}`;
    return { kind: 'usage-error', message, usage: DECISIONS_USAGE };
  }
  const { incident, stage, table, approvals } = values;
  return {
    kind: 'query',
    sinceMs,
    limit,
    options: { incident, stage, table, ...(approvals ? { approvals } : {}) },
  };
}
