import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { s3 } from '#shared/aws/s3.ts';
import { describeError } from '#shared/domain/errorText.ts';

/**
 * Whether the account the client acts in owns a bucket, or why that could not be read. `bucket`
 * is the one asked about, so a page or a record names what was looked up.
 */
export type BucketOwnership = { bucket: string; owned: boolean } | { bucket: string; unreadable: string };

/**
 * ListBuckets lists only the buckets the caller's account owns, so a bucket it does not list is
 * another account's. A call with `ExpectedBucketOwner` (HeadBucket, GetBucketLocation) would not do:
 * AWS answers a wrong owner with the same 403 Access Denied as a read the bucket's policy refuses
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).
 * The prefix is the name itself: the bucket, if listed, is on the first page of those it begins.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
 */
export async function bucketOwnership(bucket: string): Promise<BucketOwnership> {
  try {
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({ Prefix: bucket }));
    return { bucket, owned: Buckets.some((b) => b.Name === bucket) };
  } catch (error) {
    return { bucket, unreadable: describeError(error) };
  }
}
