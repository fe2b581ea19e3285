import { describe, expect, it } from 'vitest';
import { decisionsArguments } from '../../scripts/decisions/arguments.ts';
import { readingLine, stateTableToRead } from '../../scripts/decisions/stateTable.ts';

// npm run decisions: which state table it reads, when the shell still holds another stage's table.
describe('the state table npm run decisions reads', () => {
  const shell = { STATE_TABLE_NAME: 'ops-autopilot-dev-state' };

  it('reads the --stage table over STATE_TABLE_NAME, and says the variable was ignored', () => {
    // Act
    const choice = stateTableToRead({ stage: 'prod' }, shell);
    // Assert
    expect(choice.table).toBe('ops-autopilot-prod-state');
    expect(readingLine(choice, 'eu-west-1')).toBe(
      'Decisions in ops-autopilot-prod-state (eu-west-1), from --stage prod; STATE_TABLE_NAME=ops-autopilot-dev-state ignored',
    );
  });

  it('reads the --table table over --stage and STATE_TABLE_NAME', () => {
    // Act
    const choice = stateTableToRead({ table: 'restored-state', stage: 'prod' }, shell);
    // Assert
    expect(choice).toEqual({ table: 'restored-state', from: '--table' });
  });

  it('reads STATE_TABLE_NAME when neither flag is given, else the dev stage', () => {
    // Act
    const fromShell = stateTableToRead({}, { STATE_TABLE_NAME: 'ops-autopilot-local-state' });
    const fallback = stateTableToRead({}, {});
    // Assert
    expect(fromShell).toEqual({ table: 'ops-autopilot-local-state', from: 'STATE_TABLE_NAME' });
    expect(fallback.table).toBe('ops-autopilot-dev-state');
  });

  it('refuses a stage or table name that cannot name a table, naming the field', () => {
    // Assert
    expect(() => stateTableToRead({ stage: 'Prod West' }, {})).toThrow(/^--stage: must be a stage name/);
    expect(() => stateTableToRead({ stage: 'x'.repeat(33) }, {})).toThrow(/^--stage: /);
    expect(() => stateTableToRead({ table: 'a/b' }, {})).toThrow(/^--table: must be a DynamoDB table name/);
    expect(() => stateTableToRead({ table: 'ab' }, {})).toThrow(/^--table: /);
    expect(() => stateTableToRead({}, { STATE_TABLE_NAME: 't'.repeat(256) })).toThrow(/^STATE_TABLE_NAME: /);
  });
});

// npm run decisions -- --help, or a mistyped flag: the usage line, never a Node stack trace.
describe('the arguments npm run decisions accepts', () => {
  it('answers --help with the usage line and no error', () => {
    // Act
    const parsed = decisionsArguments(['--help']);
    // Assert
    expect(parsed).toEqual({ kind: 'help', usage: expect.stringMatching(/^usage: npm run decisions -- /) });
  });

  it('refuses an unknown or malformed flag with a message naming it and the usage line', () => {
    // Act
    const unknown = decisionsArguments(['--stag', 'prod']);
    const badLimit = decisionsArguments(['--limit', '0']);
    const badSince = decisionsArguments(['--since', 'yesterday']);
    // Assert
    expect(unknown).toMatchObject({ kind: 'usage-error', message: expect.stringContaining("'--stag'") });
    expect(badLimit).toMatchObject({ kind: 'usage-error', message: expect.stringMatching(/^--limit: /) });
    expect(badSince).toMatchObject({ kind: 'usage-error', message: expect.stringMatching(/^--since: /) });
  });

  it('reads the flags it knows, with the documented defaults', () => {
    // Act
    const parsed = decisionsArguments(['--stage', 'prod', '--incident', 'web-cpu-high']);
    // Assert
    expect(parsed).toMatchObject({
      kind: 'query',
      sinceMs: 24 * 60 * 60 * 1000,
      limit: 20,
      options: { stage: 'prod', incident: 'web-cpu-high' },
    });
  });
});
