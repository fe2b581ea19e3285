import type { SharedConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { RESOURCE_ID_FORMATS } from '#shared/domain/resourceIds.ts';
import { assumedRoleArnOf, memberCredentials, sessionNameOf } from '#shared/organization/credentials.ts';
import { readAccountMode } from '#shared/organization/mode.ts';
import { memberRoleArn, memberRoleName, memberRolesStackSetName } from '#shared/organization/names.ts';
import { servedAccounts } from '#shared/organization/servedAccounts.ts';
import type { ActingTarget } from '#shared/organization/target.ts';

/**
 * Where an approved action acts: the account and region its record names (the owner's event, or its
 * worker run's target). The central account's own records act where approveAction runs, as they always
 * did. A member account's act there through its member role, exactly as the owner would have, but only
 * while the stage is an organization's, the region is one it lists, the account is served and its mode
 * is not `off`. The record is data in a table, so everything in it that picks an account is bounded
 * here before any role is assumed: a record someone wrote or changed cannot reach another account.
 */

const ACCOUNT_ID = RESOURCE_ID_FORMATS.accountId;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The account and region the record says the action is for. */
export interface RecordedSite {
  account: string;
  region: string;
}

export type RecordedAccount =
  /** The account approveAction runs in: acted on in place. */
  | { at: 'here' }
  /** A served member account whose mode is live or dry-run now (`by` says what set it). */
  | { at: 'member'; account: string; region: string; mode: 'live' | 'dry-run'; by: string }
  /** Nothing may be assumed or done for it, and why, naming the field. */
  | { refusal: string };

/**
 * Pure: why the record's site cannot be acted in, whatever the stage: an account or region not in its
 * AWS format, or a stop list whose target is not the record's own account and region.
 */
export function recordedSiteProblem(site: RecordedSite, intent: Intent): string | undefined {
  // Read as untrusted: a changed record may hold anything where a string was written.
  const shown = (value: unknown) => JSON.stringify(String(value).slice(0, 32));
  if (typeof site.account !== 'string' || !ACCOUNT_ID.test(site.account)) {
    return `the record's account ${shown(site.account)} is not a 12-digit account id`;
  }
  if (typeof site.region !== 'string' || !REGION.test(site.region)) {
    return `the record's region ${shown(site.region)} is not a region name`;
  }
  if (intent.kind === 'ec2.stop-instances' && intent.target) {
    const { account, region } = intent.target;
    if (account !== site.account || region !== site.region) {
      return `the stop list's target is account ${account} region ${region}, not the record's account ${site.account} region ${site.region}`;
    }
  }
  return undefined;
}

/**
 * Where the recorded action may act now (reads the account's mode and the served accounts, both in
 * the central account; assumes nothing).
 */
export async function recordedAccountOf(
  site: RecordedSite,
  intent: Intent,
  here: { account: string },
  cfg: Pick<SharedConfig, 'stage' | 'organization'>,
): Promise<RecordedAccount> {
  const problem = recordedSiteProblem(site, intent);
  if (problem) return { refusal: problem };
  const { account, region } = site;
  if (account === here.account) return { at: 'here' };
  const { organization, stage } = cfg;
  if (organization === undefined) {
    return {
      refusal: `the action was recorded for account ${account}; stage ${stage} is no organization's stage and acts only in account ${here.account}`,
    };
  }
  if (!organization.regions.includes(region)) {
    return {
      refusal: `the action was recorded for account ${account} in region ${region}, which organization.regions (${organization.regions.join(', ')}) does not list`,
    };
  }
  // The mode first, as for an event: an account that is off gets nothing, not even an AssumeRole.
  const mode = await readAccountMode(stage, account, organization.defaultMode);
  if (mode.mode === 'off') {
    return { refusal: `account ${account} is off by ${mode.by}: nothing was assumed or done there` };
  }
  const served = await servedAccounts(stage, organization.accountsCacheSeconds);
  if (!served.has(account)) {
    return {
      refusal: `account ${account} is not served: it has no current (or updating) instance of the StackSet ${memberRolesStackSetName(stage)}; nothing was assumed or done there`,
    };
  }
  return { at: 'member', account, region, mode: mode.mode, by: mode.by };
}

/**
 * The member target approveAction acts through for a recorded action: the member role under
 * approveAction's own session name (sessionNameOf, as every function names its sessions), from the
 * credentials cache the owners use, so a second approval within the hour assumes nothing again.
 */
export function memberTargetOf(site: RecordedSite, stage: string, functionName: string): ActingTarget {
  const roleArn = memberRoleArn(site.account, site.region, memberRoleName(stage));
  const sessionName = sessionNameOf(functionName);
  return {
    account: site.account,
    region: site.region,
    credentials: memberCredentials(roleArn, sessionName),
    session: assumedRoleArnOf(roleArn, sessionName),
  };
}
