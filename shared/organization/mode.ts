import type { AccountMode } from '#config/organization.ts';
import { readValue } from '#shared/runtime/killSwitch.ts';
import { logger } from '#shared/runtime/powertools.ts';

/**
 * Each account's mode on an organization's stage, without a deploy: the SSM parameter
 * `/ops-autopilot/<stage>/accounts/<account-id>/mode` in the central account holds `live`, `dry-run` or
 * `off`; absent, the stage's `organization.defaultMode` (so a new account starts as the stage says). Read
 * as the kill switch is (Powertools, cached 60 s): an unknown value or an unreadable parameter is dry-run,
 * since an unknown state never acts, yet still pages. The stage's kill switch still wins over `live`.
 */
export const accountModeParameterName = (stage: string, account: string): string =>
  `/ops-autopilot/${stage}/accounts/${account}/mode`;

export interface AccountModeReading {
  mode: AccountMode;
  /** Completes "<mode> for account <id> by ...": the parameter, or the stage's default. */
  by: string;
}

const MODES: readonly string[] = ['live', 'dry-run', 'off'] satisfies AccountMode[];

export async function readAccountMode(
  stage: string,
  account: string,
  defaultMode: AccountMode,
): Promise<AccountModeReading> {
  const parameter = accountModeParameterName(stage, account);
  let value: string | undefined;
  try {
    value = await readValue(parameter);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    logger.error('account mode unreadable: dry-run', { parameter, error: cause });
    return {
      mode: 'dry-run',
      by: `${parameter}: it could not be read (${why}), and an unknown mode never acts`,
    };
  }
  if (value === undefined) {
    return { mode: defaultMode, by: `organization.defaultMode (${defaultMode}): ${parameter} is not set` };
  }
  if (MODES.includes(value)) return { mode: value as AccountMode, by: `${parameter}: set to ${value}` };
  logger.error('account mode holds an unknown value: dry-run', { parameter, value });
  return {
    mode: 'dry-run',
    by: `${parameter}: it holds ${JSON.stringify(value.slice(0, 64))}, none of live, dry-run or off`,
  };
}
