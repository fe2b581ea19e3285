/**
 * Which state table `npm run decisions` reads. What the person typed wins over the shell: `--table`,
 * then `--stage`, then `STATE_TABLE_NAME` (left set by `npm run local:up`'s exports or an `sls invoke
 * local` session, where it names another stage's table), then the dev stage.
 */
export interface StateTableChoice {
  table: string;
  /** Where the name came from, as the first line of the output says it. */
  from: string;
}

export class DecisionsUsageError extends Error {
  override name = 'DecisionsUsageError';
}

// A stage as the stack spells it (ops-autopilot-<stage>-...), and DynamoDB's own table-name rule.
const STAGE = /^[a-z0-9]{1,32}$/;
const TABLE = /^[A-Za-z0-9_.-]{3,255}$/;

function checkedTable(field: string, table: string): string {
  if (!TABLE.test(table)) {
    throw new DecisionsUsageError(
      `${field}: must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -); got ${JSON.stringify(table.slice(0, 300))}`,
    );
  }
  return table;
}

export function stateTableToRead(
  options: { table?: string | undefined; stage?: string | undefined },
  env: { STATE_TABLE_NAME?: string | undefined },
): StateTableChoice {
  if (options.table !== undefined) return { table: checkedTable('--table', options.table), from: '--table' };
  if (options.stage !== undefined) {
    if (!STAGE.test(options.stage)) {
      throw new DecisionsUsageError(
        `--stage: must be a stage name of config/stages.ts (1 to 32 of a-z 0-9), such as prod; got ${JSON.stringify(options.stage.slice(0, 300))}`,
      );
    }
    const ignored = env.STATE_TABLE_NAME ? `; STATE_TABLE_NAME=${env.STATE_TABLE_NAME} ignored` : '';
    return { table: `ops-autopilot-${options.stage}-state`, from: `--stage ${options.stage}${ignored}` };
  }
  if (env.STATE_TABLE_NAME) {
    return { table: checkedTable('STATE_TABLE_NAME', env.STATE_TABLE_NAME), from: 'STATE_TABLE_NAME' };
  }
  return { table: 'ops-autopilot-dev-state', from: 'no --stage or --table: the dev stage' };
}

/** The output's first line: which table, where its name came from, and the region it was read in. */
export function readingLine(choice: StateTableChoice, region: string): string {
  return `Decisions in ${choice.table} (${region}), from ${choice.from}`;
}
