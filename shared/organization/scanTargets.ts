/**
 * Where an organization's idle scan runs: the (account, region) targets it fans out to, and the SDK
 * clients a target's scan and stops use.
 *
 * - `servedTargets`: the served accounts (a current instance of the member-roles StackSet,
 *   servedAccounts.ts) and the central account, each in every listed region.
 * - `targetClients`: a worker's run is decided for its target's account (the spec's `actingSite`,
 *   account.ts): a member's reads and stops go through the acting clients in the assumed member role;
 *   the central account's own target, in place, with this account's clients in the target's region.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { OrganizationSettings } from '#config/organization.ts';
import { regionalScanClients } from '#shared/aws/regional.ts';
import { servedAccounts } from './servedAccounts.ts';
import { currentTarget } from './target.ts';

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

/** The targets one scheduled scan fans out to, each once, in a stable order. */
export async function servedTargets(input: {
  stage: string;
  organization: OrganizationSettings;
  centralAccount: string;
}): Promise<ScanTarget[]> {
  const { stage, organization, centralAccount } = input;
  const served = await servedAccounts(stage, organization.accountsCacheSeconds);
  const accounts = [...new Set([centralAccount, ...served])].sort();
  return accounts.flatMap((account) =>
    [...organization.regions].sort().map((region) => ScanTarget.parse({ account, region })),
  );
}

/** A member target's run reached its scan without the member's acting target: nothing is read there. */
export class TargetNotActing extends Error {
  override name = 'TargetNotActing';
}

/**
 * The clients a target's scan and stops use. Inside a member's run (the pipeline acts in the assumed
 * member role), the acting clients, which go to that account and region; they must be the target's, or
 * nothing is read. Outside one, the run is the central account's own target (account.ts decides
 * in place only for it): this account's clients in the target's region.
 */
export async function targetClients(target: ScanTarget): Promise<TargetClients> {
  const acting = currentTarget();
  if (acting === undefined) return regionalScanClients(target.region);
  if (acting.account !== target.account || acting.region !== target.region) {
    throw new TargetNotActing(
      `the run acts in ${acting.account}/${acting.region}, not in its target ${target.account}/${target.region}; nothing was read or done`,
    );
  }
  const [{ ec2 }, { cloudwatch }] = await Promise.all([
    import('#shared/aws/ec2.ts'),
    import('#shared/aws/cloudwatch.ts'),
  ]);
  return { ec2, cloudwatch };
}
