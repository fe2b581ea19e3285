import { describe, expect, it } from 'vitest';
import { parseAwsTimestamp } from '#shared/domain/time.ts';

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
