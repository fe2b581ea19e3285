import { GetCalendarStateCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { changeFreezeState, freezeReason } from '#shared/runtime/changeFreeze.ts';
import { answerCalendars, calendarsAsked } from '../support/changeCalendars.ts';

const ssm = mockClient(SSMClient);
const OPENS = '2026-12-27T08:00:00.000Z';

beforeEach(() => {
  ssm.reset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('changeFreezeState: what the calendars say now', () => {
  it('is open, asking nothing, when no calendar applies', async () => {
    // Act
    const state = await changeFreezeState([]);
    // Assert
    expect(state).toEqual({ closed: false });
    expect(ssm.calls()).toHaveLength(0);
  });

  it('is open when every calendar answers OPEN, one call per calendar', async () => {
    // Arrange
    answerCalendars(ssm, { 'release-freeze': { State: 'OPEN' }, holidays: { State: 'OPEN' } });
    // Act
    const state = await changeFreezeState(['release-freeze', 'holidays']);
    // Assert
    expect(state).toEqual({ closed: false });
    expect(calendarsAsked(ssm).sort()).toEqual(['holidays', 'release-freeze']);
  });

  it('is closed by the CLOSED calendar, named, with when it opens (NextTransitionTime)', async () => {
    // Arrange
    answerCalendars(ssm, {
      'release-freeze': { State: 'OPEN' },
      holidays: { State: 'CLOSED', NextTransitionTime: '2026-12-27T08:00:00Z' },
    });
    // Act
    const state = await changeFreezeState(['release-freeze', 'holidays']);
    // Assert
    expect(state).toEqual({ closed: true, calendar: 'holidays', opensAt: OPENS });
    expect(freezeReason(state as Extract<typeof state, { closed: true }>)).toBe(
      `change freeze: calendar holidays is CLOSED; it opens at ${OPENS}`,
    );
  });

  it.each([
    [
      'access denied',
      Object.assign(new Error('not authorized to perform ssm:GetCalendarState'), {
        name: 'AccessDeniedException',
      }),
      'AccessDeniedException: not authorized to perform ssm:GetCalendarState',
    ],
    [
      'a timeout',
      Object.assign(new Error('Request timed out after 5000 ms'), { name: 'TimeoutError' }),
      'TimeoutError: Request timed out after 5000 ms',
    ],
    [
      'an unknown answer',
      { State: 'MAYBE' },
      'GetCalendarState answered State "MAYBE", neither OPEN nor CLOSED',
    ],
  ] as const)('counts a calendar it cannot read (%s) as closed, and says why', async (_case, answer, why) => {
    // Arrange
    answerCalendars(ssm, { 'release-freeze': answer as never });
    // Act
    const state = await changeFreezeState(['release-freeze']);
    // Assert
    expect(state).toEqual({ closed: true, calendar: 'release-freeze', unreadable: why });
    expect(freezeReason(state as Extract<typeof state, { closed: true }>)).toBe(
      `change freeze: calendar release-freeze could not be read (${why}), and an unreadable calendar counts as closed`,
    );
  });

  it('names a CLOSED calendar before an unreadable one, since it says when it opens', async () => {
    // Arrange
    answerCalendars(ssm, { holidays: { State: 'CLOSED', NextTransitionTime: OPENS } });
    // Act: 'gone' is not a calendar SSM knows.
    const state = await changeFreezeState(['gone', 'holidays']);
    // Assert
    expect(state).toMatchObject({ closed: true, calendar: 'holidays', opensAt: OPENS });
  });

  it('says so when a CLOSED calendar has no opening scheduled', async () => {
    // Arrange
    answerCalendars(ssm, { incident: { State: 'CLOSED' } });
    // Act
    const state = await changeFreezeState(['incident']);
    // Assert
    expect(freezeReason(state as Extract<typeof state, { closed: true }>)).toBe(
      'change freeze: calendar incident is CLOSED; no opening is scheduled',
    );
  });
});

describe('changeFreezeState: the cache of a warm container', () => {
  it('asks SSM at most once a minute per calendar, and again after 60 s', async () => {
    // Arrange
    vi.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z'), toFake: ['Date'] });
    answerCalendars(ssm, { 'release-freeze': { State: 'OPEN' } });
    // Act
    await changeFreezeState(['release-freeze']);
    vi.setSystemTime(new Date('2026-12-06T10:00:59Z'));
    await changeFreezeState(['release-freeze']);
    const within = calendarsAsked(ssm).length;
    vi.setSystemTime(new Date('2026-12-06T10:01:01Z'));
    await changeFreezeState(['release-freeze']);
    // Assert
    expect(within).toBe(1);
    expect(calendarsAsked(ssm)).toHaveLength(2);
  });

  it("keeps no answer past the calendar's next transition: a freeze that ends within the minute ends then", async () => {
    // Arrange
    vi.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z'), toFake: ['Date'] });
    answerCalendars(ssm, {
      'release-freeze': { State: 'CLOSED', NextTransitionTime: '2026-12-06T10:00:20Z' },
    });
    await changeFreezeState(['release-freeze']);
    ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    // Act
    vi.setSystemTime(new Date('2026-12-06T10:00:21Z'));
    const state = await changeFreezeState(['release-freeze']);
    // Assert
    expect(state).toEqual({ closed: false });
    expect(calendarsAsked(ssm)).toHaveLength(2);
  });

  it('does not keep an unreadable answer: the next invocation asks again', async () => {
    // Arrange
    answerCalendars(ssm, { 'release-freeze': new Error('socket hang up') });
    await changeFreezeState(['release-freeze']);
    ssm.on(GetCalendarStateCommand).resolves({ State: 'OPEN' });
    // Act
    const state = await changeFreezeState(['release-freeze']);
    // Assert
    expect(state).toEqual({ closed: false });
    expect(calendarsAsked(ssm)).toHaveLength(2);
  });
});
