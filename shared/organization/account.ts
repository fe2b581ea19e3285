import type { SharedConfig } from '#shared/config.ts';
import { describeError } from '#shared/domain/errorText.ts';
import type { PageIntent, PlanNote } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { InvocationSite } from '#shared/runtime/functionSpec.ts';
import { assumedRoleArnOf, memberCredentials, sessionNameOf } from './credentials.ts';
import { readAccountMode } from './mode.ts';
import { memberRoleArn, memberRoleName, memberRolesStackSetName, memberRunbookRoleName } from './names.ts';
import { notServedPage, servedAccounts } from './servedAccounts.ts';
import type { ActingTarget } from './target.ts';

/**
 * How an invocation acts for its event's account (docs/ORGANIZATION.md): where the function runs (a
 * single-account stage, the central account's own events), or in a member account through its member
 * role. The run's configuration is the function's, with the member's runbook role for a member.
 */
export type AccountDecision<C extends SharedConfig> =
  /** `dryRunBy`: the account's mode makes the run dry, and says by what (the page and the action log). */
  | { act: 'here'; config: C; dryRunBy?: string }
  | { act: 'member'; config: C; target: ActingTarget; dryRunBy?: string }
  /** Nothing read or done for the event: its notes in the action log, and the page, if any, say why. */
  | { act: 'nothing'; notes: PlanNote[]; page?: PageIntent };

/** The member role could not be assumed: the delivery fails (and is retried), naming the role and why. */
export class MemberRoleUnavailable extends Error {
  override name = 'MemberRoleUnavailable';
}

/**
 * Decides where a run acts: `acting` is the event's site (shared/organization/site.ts), `site` the
 * function's. A member's role is assumed here, before anything is read there, so a trust or permission
 * mismatch fails the delivery at once with the role's ARN instead of as some later call's AccessDenied.
 */
export async function accountDecision<C extends SharedConfig>(
  signal: Signal,
  acting: InvocationSite,
  site: InvocationSite,
  config: C,
): Promise<AccountDecision<C>> {
  const organization = config.organization;
  if (organization === undefined) return { act: 'here', config };
  const { account, region } = acting;
  // The mode first: an account that is off gets nothing, not even an AssumeRole or a page.
  const mode = await readAccountMode(config.stage, account, organization.defaultMode);
  if (mode.mode === 'off') {
    const detail = `account ${account} is off by ${mode.by}: nothing was read, done or paged for this event`;
    return { act: 'nothing', notes: [{ decision: 'skipped', reason: 'account-off', detail }] };
  }
  const dryRun = mode.mode === 'dry-run' ? { dryRunBy: `Dry-run for account ${account} by ${mode.by}` } : {};
  // StackSets never deploy to the central account: its own events are handled in place.
  if (account === site.account) return { act: 'here', config, ...dryRun };
  const served = await servedAccounts(config.stage, organization.accountsCacheSeconds);
  if (!served.has(account)) {
    const stackSet = memberRolesStackSetName(config.stage);
    const detail = `account ${account} is not served: it has no current (or updating) instance of the StackSet ${stackSet}; nothing was read or done there`;
    return {
      act: 'nothing',
      notes: [{ decision: 'skipped', reason: 'account-not-served', detail }],
      page: notServedPage(signal, account, config.stage),
    };
  }
  const roleArn = memberRoleArn(account, region, memberRoleName(config.stage));
  // One session per function, not per event: the credentials outlive the event (credentials.ts).
  const sessionName = sessionNameOf(config.functionName);
  const credentials = memberCredentials(roleArn, sessionName);
  try {
    await credentials();
  } catch (error) {
    const why = describeError(error);
    throw new MemberRoleUnavailable(
      `could not assume ${roleArn} for account ${account}'s event (${why}); nothing was read or done there`,
      { cause: error },
    );
  }
  const target: ActingTarget = {
    account,
    region,
    credentials,
    session: assumedRoleArnOf(roleArn, sessionName),
  };
  // A runbook in a member account runs as that account's runbook role, never as a central one.
  const automationRoleArn = memberRoleArn(account, region, memberRunbookRoleName(config.stage));
  return { act: 'member', config: { ...config, automationRoleArn }, target, ...dryRun };
}
