/**
 * Where an organization's idle scan runs: the (account, region) targets it fans out to, and the SDK
 * clients a target's scan and stops use. Both are seams, set once at start-up:
 *
 * - `servedTargets`: until the served-account check (the member-roles StackSet's current instances) is
 *   wired in, the central account alone, in every listed region.
 * - `targetClients`: the central account's own clients, in place (nothing assumed); a member account's
 *   come from the assume-role client source, wired with `useTargetClientSource`. Unwired, a member
 *   target fails with an error saying so, and only that target's message is retried.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { OrganizationSettings } from '#config/organization.ts';
import { regionalScanClients } from '#shared/aws/regional.ts';

/** One (account, region) the idle scan covers: one queue message, one worker run. */
export const ScanTarget = z.strictObject({
  account: z.string().regex(/^\d{12}$/, { error: 'must be a 12-digit account id' }),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, { error: 'must be a region name such as eu-west-1' }),
});
export type ScanTarget = z.infer<typeof ScanTarget>;

/** What a target's scan and stops call: EC2 (instances, stops, tags) and CloudWatch (metrics). */
export interface TargetClients {
  ec2: EC2Client;
  cloudwatch: CloudWatchClient;
}

/** The targets of one scheduled scan: every served account in every listed region. */
export type ServedTargetSource = (input: {
  organization: OrganizationSettings;
  centralAccount: string;
}) => Promise<ScanTarget[]>;

/** A member account's clients (assumed member role); the central account never reaches it. */
export type MemberClientSource = (target: ScanTarget, session: string) => Promise<TargetClients>;

/** Until the served-account check lands: the central account, in each listed region. */
const centralAccountOnly: ServedTargetSource = async ({ organization, centralAccount }) =>
  organization.regions.map((region) => ({ account: centralAccount, region }));

const memberClientsNotWired: MemberClientSource = async (target) => {
  throw new MemberClientsNotWired(
    `no client source for member account ${target.account}: acting in member accounts (assume the member role) is not wired yet`,
  );
};

export class MemberClientsNotWired extends Error {
  override name = 'MemberClientsNotWired';
}

let served: ServedTargetSource = centralAccountOnly;
let memberClients: MemberClientSource = memberClientsNotWired;

/** The seam the served-account check and the assume-role client source plug into (and tests). */
export function useTargetSources(sources: {
  served?: ServedTargetSource;
  member?: MemberClientSource;
}): void {
  served = sources.served ?? centralAccountOnly;
  memberClients = sources.member ?? memberClientsNotWired;
}

/** The targets one scheduled scan fans out to, each once, in a stable order. */
export async function servedTargets(input: {
  organization: OrganizationSettings;
  centralAccount: string;
}): Promise<ScanTarget[]> {
  const targets = (await served(input)).map((t) => ScanTarget.parse(t));
  const unique = new Map(targets.map((t) => [`${t.account}/${t.region}`, t]));
  return [...unique.values()].sort((a, b) =>
    a.account === b.account ? a.region.localeCompare(b.region) : a.account.localeCompare(b.account),
  );
}

/**
 * The clients a target's scan and stops use: in place for the central account, the member client source
 * for any other. `session` names the run (the assumed session's name carries it).
 */
export async function targetClients(
  target: ScanTarget,
  centralAccount: string,
  session: string,
): Promise<TargetClients> {
  if (target.account === centralAccount) return regionalScanClients(target.region);
  return memberClients(target, session);
}
