import type { GetCalendarStateCommandOutput } from '@aws-sdk/client-ssm';
import { calendarsOf } from './changeCalendarSettings.ts';
import { logger } from './powertools.ts';

/**
 * The change freeze: SSM Change Calendars a stage, a rule or a detection names (`changeCalendars`). A
 * live mutation is previewed (`change-freeze`) while one of its calendars is CLOSED, and while one
 * cannot be read: a freeze exists for the moments a change must not happen, so an unknown state never
 * acts (like the kill switch). https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-change-calendar.html
 *
 * One GetCalendarState call per calendar, not one for all: with several names SSM answers one state
 * (CLOSED if any is) and one transition time, so the page could not say which calendar froze the
 * action nor when that one opens, and one unreadable name would fail the answer for all.
 */
export type FreezeState =
  | { closed: false }
  | {
      closed: true;
      calendar: string;
      /** ISO 8601 UTC, from NextTransitionTime: when the calendar opens, if SSM says. */
      opensAt?: string;
      /** Why the calendar could not be read, when it could not: it counts as closed. */
      unreadable?: string;
    };

/** What one mutating intent is checked against, beyond the stage's calendars (FunctionSpec.changeFreeze). */
export interface FreezeScope {
  /** Its rule's or detection's own calendars. */
  calendars?: readonly string[];
  /** A security remediation that acts through a freeze (a detection's `ignoreChangeFreeze`). */
  ignoreChangeFreeze?: boolean;
}

/**
 * The calendars one live intent is checked against: the stage's and its rule's or detection's, none
 * when it ignores the freeze. The pipeline asks this before executing, an approval before acting.
 */
export function calendarsFor(stageCalendars: readonly string[], scope: FreezeScope): string[] {
  return scope.ignoreChangeFreeze === true ? [] : calendarsOf(stageCalendars, scope.calendars);
}

/** An answer is kept at most this long in a warm container, and never past the calendar's next transition. */
export const CALENDAR_MAX_AGE_SECONDS = 60;

type CalendarRead = { state: 'OPEN' | 'CLOSED'; nextTransition?: string } | { unreadable: string };

const answers = new Map<string, { read: CalendarRead; until: number }>();

/**
 * Loaded at the first read, as the kill switch's client is: only a live run with a mutation planned on a
 * stage with calendars asks. A failed load is not kept: it counts as unreadable and the next read loads again.
 */
let reader: Promise<(name: string) => Promise<GetCalendarStateCommandOutput>> | undefined;
const calendarReader = () =>
  (reader ??= Promise.all([import('@aws-sdk/client-ssm'), import('#shared/aws/parameters.ts')])
    .then(
      ([{ GetCalendarStateCommand }, { parametersClient }]) =>
        (name: string) =>
          parametersClient.send(new GetCalendarStateCommand({ CalendarNames: [name] })),
    )
    .catch((error: unknown) => {
      reader = undefined;
      throw error;
    }));

/** An ISO 8601 time as AWS writes it, as UTC; undefined when it is not one (nothing is guessed). */
function isoTime(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 40) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value))
    return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

async function ask(name: string): Promise<CalendarRead> {
  try {
    const answer = await (await calendarReader())(name);
    const state = answer.State;
    if (state !== 'OPEN' && state !== 'CLOSED') {
      const shown = JSON.stringify(String(state).slice(0, 32));
      logger.error('change calendar answered an unknown state: counting it closed', {
        calendar: name,
        state,
      });
      return { unreadable: `GetCalendarState answered State ${shown}, neither OPEN nor CLOSED` };
    }
    const nextTransition = isoTime(answer.NextTransitionTime);
    const read: CalendarRead = { state, ...(nextTransition ? { nextTransition } : {}) };
    // Not past the next transition: a freeze that ends (or begins) within the minute takes effect then.
    const until = Math.min(
      Date.now() + CALENDAR_MAX_AGE_SECONDS * 1000,
      nextTransition ? Date.parse(nextTransition) : Number.POSITIVE_INFINITY,
    );
    answers.set(name, { read, until });
    return read;
  } catch (error) {
    // Not cached: the next invocation asks again, so the action follows SSM as soon as it answers.
    const cause = (error as { cause?: unknown }).cause ?? error;
    const errorName = cause instanceof Error ? cause.name : 'Error';
    const message = (cause instanceof Error ? cause.message : String(cause)).slice(0, 200);
    logger.error('change calendar unreadable: counting it closed', { calendar: name, error: cause });
    return { unreadable: `${errorName}: ${message}` };
  }
}

function calendarState(name: string): Promise<CalendarRead> {
  const cached = answers.get(name);
  if (cached && cached.until > Date.now()) return Promise.resolve(cached.read);
  return ask(name);
}

/**
 * Whether these calendars allow a change now: closed when one is CLOSED or cannot be read. A CLOSED
 * calendar is named before an unreadable one, since it says when it opens. No calendar: open, no call.
 */
export async function changeFreezeState(calendars: readonly string[]): Promise<FreezeState> {
  const names = [...new Set(calendars)];
  if (names.length === 0) return { closed: false };
  const reads = await Promise.all(
    names.map(async (calendar) => ({ calendar, read: await calendarState(calendar) })),
  );
  for (const { calendar, read } of reads) {
    if ('state' in read && read.state === 'CLOSED') {
      return { closed: true, calendar, ...(read.nextTransition ? { opensAt: read.nextTransition } : {}) };
    }
  }
  for (const { calendar, read } of reads) {
    if ('unreadable' in read) return { closed: true, calendar, unreadable: read.unreadable };
  }
  return { closed: false };
}

/** Why a closed freeze holds an action back, for the outcome, the page and the action log. */
export function freezeReason(state: Extract<FreezeState, { closed: true }>): string {
  if (state.unreadable !== undefined) {
    return `change freeze: calendar ${state.calendar} could not be read (${state.unreadable}), and an unreadable calendar counts as closed`;
  }
  const opens = state.opensAt ? `it opens at ${state.opensAt}` : 'no opening is scheduled';
  return `change freeze: calendar ${state.calendar} is CLOSED; ${opens}`;
}

/** Tests change the calendars' answers between cases: this forgets what was read. */
export function resetChangeFreezeForTests(): void {
  answers.clear();
}
