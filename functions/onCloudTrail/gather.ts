import { type BucketOwnership, bucketOwnership } from './bucketOwner.ts';
import type { CloudTrailFacts } from './signal.ts';
import { type TrailLogBuckets, trailLogBuckets } from './trailLogBuckets.ts';

/**
 * DescribeTrails, for a finding that pages only on a trail's log bucket; ListBuckets (on `*`, the
 * only resource it takes), for an RDS export that pages only to another account's bucket.
 */
export const gatherPermissions = ['cloudtrail:DescribeTrails', 's3:ListAllMyBuckets'] as const;

export interface CloudTrailGathered {
  /** The buckets this account's trails log to; read only when the deciding finding asks. */
  trailLogBuckets?: TrailLogBuckets;
  /** Whether this account owns an export's bucket; read only when the deciding finding asks. */
  exportBucketOwner?: BucketOwnership;
}

/** Read-only: the record says all most detections need; two findings need one read each. */
export async function gatherCloudTrail(input: { facts: CloudTrailFacts }): Promise<CloudTrailGathered> {
  const condition = input.facts.decided?.finding.pagesOnlyIf;
  if (condition === undefined) return {};
  if ('trailLogBucket' in condition) return { trailLogBuckets: await trailLogBuckets() };
  const bucket = condition.bucketOutsideAccount;
  return bucket === null ? {} : { exportBucketOwner: await bucketOwnership(bucket) };
}
