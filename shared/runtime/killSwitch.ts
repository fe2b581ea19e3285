import { ParameterNotFoundError } from '@aws-lambda-powertools/parameters';
import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { logger } from './powertools.ts';

/**
 * The kill switch: an SSM parameter `/ops-autopilot/<stage>/mode` that turns every mutating action of
 * every function into a dry run without a deploy. `dry-run` forces it; `live` or no parameter follows
 * the stage. Any other value, and a parameter that cannot be read (AccessDenied, throttling, SSM
 * unreachable), force dry-run too: the switch exists for the moment the automation must stop, which is
 * when an operator will not wait for IAM or SSM to be fixed, so an unknown state never acts.
 */
export const MODE_MAX_AGE_SECONDS = 60;

export const modeParameterName = (stage: string): string => `/ops-autopilot/${stage}/mode`;

export type KillSwitch =
  | { forced: false }
  /** `why` completes "Forced dry-run by <parameter>: " in the page and the action log. */
  | { forced: true; parameter: string; why: string };

/**
 * Loaded at the first read: only a live run that plans a mutation asks, and the SSM client is among
 * the heaviest packages of a bundle (a code-split build leaves it out of the cold start). A failed
 * load is not kept: it forces this run dry (readKillSwitch) and the next read loads again.
 */
let provider: Promise<SSMProvider> | undefined;
const ssmProvider = (): Promise<SSMProvider> =>
  (provider ??= Promise.all([
    import('@aws-lambda-powertools/parameters/ssm'),
    import('#shared/aws/parameters.ts'),
  ])
    .then(([{ SSMProvider }, { parametersClient }]) => new SSMProvider({ awsSdkV3Client: parametersClient }))
    .catch((error: unknown) => {
      provider = undefined;
      throw error;
    }));
/** Powertools caches values, not absence: an absent parameter is remembered here for as long. */
const absentUntil = new Map<string, number>();

/**
 * A parameter's value as the kill switch reads it (cached 60 s, absence too); undefined when absent, a
 * throw when unreadable. The per-account mode (shared/organization/mode.ts) is read the same way.
 */
export async function readValue(name: string): Promise<string | undefined> {
  if ((absentUntil.get(name) ?? 0) > Date.now()) return undefined;
  try {
    return await (await ssmProvider()).get(name, { maxAge: MODE_MAX_AGE_SECONDS, throwOnMissing: true });
  } catch (error) {
    if (!(error instanceof ParameterNotFoundError)) throw error;
    absentUntil.set(name, Date.now() + MODE_MAX_AGE_SECONDS * 1000);
    return undefined;
  }
}

/** The stage's kill switch, read at most once a minute per process (a flip takes effect within 60 s). */
export async function readKillSwitch(stage: string): Promise<KillSwitch> {
  const parameter = modeParameterName(stage);
  let value: string | undefined;
  try {
    value = await readValue(parameter);
  } catch (error) {
    // Not cached: the next invocation asks again, so the switch follows SSM as soon as it answers.
    const cause = (error as { cause?: unknown }).cause ?? error;
    const name = cause instanceof Error ? cause.name : 'Error';
    const message = cause instanceof Error ? cause.message : String(cause);
    logger.error('kill switch unreadable: forcing dry-run', { parameter, error: cause });
    return {
      forced: true,
      parameter,
      why: `it could not be read (${name}: ${message}), and an unknown mode never acts`,
    };
  }
  if (value === undefined || value === 'live') return { forced: false };
  if (value === 'dry-run') return { forced: true, parameter, why: 'set to dry-run' };
  logger.error('kill switch holds an unknown value: forcing dry-run', { parameter, value });
  return {
    forced: true,
    parameter,
    why: `it holds ${JSON.stringify(value.slice(0, 64))}, neither live nor dry-run`,
  };
}

/** Tests flip the parameter between cases: this forgets what was read. */
export function resetKillSwitchForTests(): void {
  // A new provider starts with an empty cache.
  provider = undefined;
  absentUntil.clear();
}
