import { describe, expect, it } from 'vitest';
import { parseAwsTimestamp, timestampProblem } from '#shared/domain/time.ts';

describe('parseAwsTimestamp', () => {
  it.each([
    ['2025-06-21T02:17:44.533+0000', Date.UTC(2025, 5, 21, 2, 17, 44, 533)],
    ['2025-06-21T04:17:44.533+0200', Date.UTC(2025, 5, 21, 2, 17, 44, 533)],
    ['2019-10-02T17:04:40Z', Date.UTC(2019, 9, 2, 17, 4, 40)],
    ['Wed, 02 Oct 2019 17:04:40 GMT', Date.UTC(2019, 9, 2, 17, 4, 40)],
  ])('reads %s', (text, expected) => {
    expect(parseAwsTimestamp(text)).toBe(expected);
  });

  it('says undefined for text that is no time', () => {
    expect(parseAwsTimestamp('yesterday-ish')).toBeUndefined();
    expect(parseAwsTimestamp(undefined)).toBeUndefined();
  });
});

describe('timestampProblem', () => {
  const now = Date.UTC(2025, 5, 21, 2, 0, 0);

  it.each([
    ['five minutes ahead (clock skew)', '2025-06-21T02:05:00.000+0000'],
    ['now, in another offset', '2025-06-21T04:00:00.000+0200'],
    ['years ago (a late delivery)', '2019-10-02T17:04:40Z'],
  ])('accepts a time %s', (_what, text) => {
    // Act
    const problem = timestampProblem(text, now);
    // Assert
    expect(problem).toBeUndefined();
  });

  it('rejects a time more than five minutes ahead, saying so', () => {
    // Act
    const problem = timestampProblem('2025-06-21T02:05:00.001+0000', now);
    // Assert
    expect(problem).toBe('is more than 5 minutes in the future (now is 2025-06-21T02:00:00.000Z)');
  });

  it('rejects text that is no time', () => {
    // Act
    const problem = timestampProblem('tomorrow', now);
    // Assert
    expect(problem).toBe('is not a readable timestamp');
  });
});
