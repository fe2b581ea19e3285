import { z } from 'zod';

/**
 * The SSM Change Calendars a stage, a rule or a detection names (`changeCalendars`): a live mutation is
 * previewed while one of them is CLOSED (shared/runtime/changeFreeze.ts). Imports only zod, so every
 * settings file composes it without an import cycle.
 *
 * A calendar is an SSM document of type ChangeCalendar, named as GetCalendarState takes it: its name (a
 * document name, 3 to 128 letters, digits, `_`, `-` or `.`) or its ARN
 * (`arn:<partition>:ssm:<region>:<account>:document/<name>`, for a calendar shared from another
 * account): https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCalendarState.html
 * and https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html.
 */
export const CALENDAR_NAME = /^[A-Za-z0-9_.-]{3,128}$/;
export const CALENDAR_ARN =
  /^arn:aws(-[a-z]+)*:ssm:[a-z]{2}(-[a-z]+)+-\d{1,2}:\d{12}:document\/[A-Za-z0-9_.-]{3,128}$/;

/** Each rule's or detection's list, and the stage's: a few calendars, each checked before every live action. */
export const MAX_CHANGE_CALENDARS = 10;

export const ChangeCalendar = z
  .string()
  .max(256)
  .refine((c) => CALENDAR_NAME.test(c) || CALENDAR_ARN.test(c), {
    message:
      'must be an SSM Change Calendar name (3 to 128 letters, digits, _ - or .) or its ARN, arn:aws:ssm:<region>:<account>:document/<name>',
  });

export const ChangeCalendars = z
  .array(ChangeCalendar)
  .max(MAX_CHANGE_CALENDARS)
  .refine((list) => new Set(list).size === list.length, { message: 'names a calendar twice' });

/** The calendars of several lists (the stage's, a rule's), each once, in order. */
export const calendarsOf = (...lists: readonly (readonly string[] | undefined)[]): string[] => [
  ...new Set(lists.flatMap((l) => l ?? [])),
];
