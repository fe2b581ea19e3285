import type { CloudTrailFacts } from './signal.ts';

/** Nothing to read: the record says all a detection needs. */
export const gatherPermissions = [] as const;

export type CloudTrailGathered = Record<string, never>;

export async function gatherCloudTrail(_input: { facts: CloudTrailFacts }): Promise<CloudTrailGathered> {
  return {};
}
