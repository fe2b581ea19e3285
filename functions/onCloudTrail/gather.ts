import type { CloudTrailFacts } from './signal.ts';
import { type TrailLogBuckets, trailLogBuckets } from './trailLogBuckets.ts';

/** DescribeTrails, for a finding that pages only on a trail's log bucket. */
export const gatherPermissions = ['cloudtrail:DescribeTrails'] as const;

export interface CloudTrailGathered {
  /** The buckets this account's trails log to; read only when the deciding finding asks. */
  trailLogBuckets?: TrailLogBuckets;
}

/** Read-only: the record says all most detections need; a lifecycle finding needs the trails' buckets. */
export async function gatherCloudTrail(input: { facts: CloudTrailFacts }): Promise<CloudTrailGathered> {
  if (input.facts.decided?.finding.pagesOnlyIf === undefined) return {};
  return { trailLogBuckets: await trailLogBuckets() };
}
