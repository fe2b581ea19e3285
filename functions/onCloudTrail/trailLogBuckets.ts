import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { cloudtrail } from '#shared/aws/cloudtrail.ts';
import { describeError } from '#shared/domain/errorText.ts';

/** The buckets this account's trails log to, each with its trails' names; or why they could not be read. */
export type TrailLogBuckets = { buckets: Record<string, string[]> } | { unreadable: string };

/** One trail as DescribeTrails lists it: its name and the bucket it delivers to. */
export interface TrailBucket {
  name: string;
  bucket: string;
}

/**
 * How long a container trusts its read of the trails: a trail created or moved to another bucket is
 * known within 5 minutes, and a burst of lifecycle records costs one DescribeTrails call.
 */
export const TRAIL_LOG_BUCKETS_TTL_MS = 5 * 60_000;

/** DescribeTrails lists at most a few trails a region; more than this is not an answer to trust. */
const MAX_TRAILS = 1_000;

/**
 * The trails of this account and region, and those that log here from elsewhere: shadow trails
 * (multi-region and organization trails) are listed too, since their log bucket is as much evidence.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html
 */
export async function describeTrailBuckets(): Promise<TrailBucket[]> {
  const { trailList = [] } = await cloudtrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
  return trailList
    .slice(0, MAX_TRAILS)
    .flatMap((t) =>
      t.S3BucketName ? [{ name: t.Name ?? t.TrailARN ?? '(unnamed)', bucket: t.S3BucketName }] : [],
    );
}

/** A per-container cache of the trails' log buckets: a successful read is kept for `ttlMs`, a failure never. */
export function trailLogBucketCache(options: {
  ttlMs: number;
  read: () => Promise<TrailBucket[]>;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  let cached: { at: number; value: TrailLogBuckets } | undefined;
  return {
    async get(): Promise<TrailLogBuckets> {
      if (cached && now() - cached.at < options.ttlMs) return cached.value;
      try {
        const buckets: Record<string, string[]> = {};
        // Own properties only: `constructor` is a valid bucket name and a plain object's inherited key.
        for (const { name, bucket } of await options.read())
          buckets[bucket] = [...(Object.hasOwn(buckets, bucket) ? (buckets[bucket] ?? []) : []), name];
        cached = { at: now(), value: { buckets } };
        return cached.value;
      } catch (error) {
        cached = undefined;
        return { unreadable: describeError(error) };
      }
    },
    forget() {
      cached = undefined;
    },
  };
}

const shared = trailLogBucketCache({ ttlMs: TRAIL_LOG_BUCKETS_TTL_MS, read: describeTrailBuckets });

/** The trails' log buckets, read at most once per TTL in this container. */
export const trailLogBuckets = () => shared.get();

/** Forgets the container's read, so each test starts cold. */
export const resetTrailLogBucketsForTests = () => shared.forget();
