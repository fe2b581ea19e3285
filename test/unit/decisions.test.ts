import { describe, expect, it } from 'vitest';
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
