import type { OrganizationSettings } from '#config/organization.ts';
import type { InvocationSite } from '#shared/runtime/functionSpec.ts';

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Where an event is acted on. On a single-account stage, where the function runs. On an organization's
 * stage, a member account's event is acted on in that account and its region (when the region is one
 * the organization lists; otherwise the function's own, which the scope check then refuses), so every
 * check that compares an event with its site (the scope, an alarm's ARN, a CloudTrail target's) compares
 * it with the member account. The central account's own events stay where the function runs.
 */
export function actingSiteOf(
  event: unknown,
  site: InvocationSite,
  organization: Pick<OrganizationSettings, 'regions'> | undefined,
): InvocationSite {
  if (organization === undefined || typeof event !== 'object' || event === null) return site;
  const { account, region } = event as { account?: unknown; region?: unknown };
  if (typeof account !== 'string' || !ACCOUNT_ID.test(account) || account === site.account) return site;
  const listed = typeof region === 'string' && organization.regions.includes(region);
  return { requestId: site.requestId, account, region: listed ? region : site.region };
}

/** Whether the acting site is a member account, not the one the function runs in. */
export const isMemberSite = (acting: InvocationSite, site: InvocationSite): boolean =>
  acting.account !== site.account;
