import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { s3 } from '#shared/aws/s3.ts';
import type { RestorePublicAccessBlockIntent } from '#shared/domain/intent.ts';
import { remediationExecutor } from './remediation.ts';

const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const;

/** Turns the bucket's public access block fully on; a block already fully on is left alone. */
export const restorePublicAccessBlockExecutor = remediationExecutor<
  RestorePublicAccessBlockIntent,
  typeof s3
>({
  kind: 's3.restore-public-access-block',
  preview: (intent) => `turn on all four public access block settings of bucket ${intent.bucket}`,
  aws: async () => s3,
  async remediate(intent, client) {
    const bucket = { Bucket: intent.bucket, ExpectedBucketOwner: intent.expectedOwner };
    const current = await client
      .send(new GetPublicAccessBlockCommand(bucket))
      .then((r) => r.PublicAccessBlockConfiguration)
      .catch((error: { name?: string }) => {
        if (error.name === 'NoSuchPublicAccessBlockConfiguration') return undefined;
        throw error;
      });
    if (current && Object.keys(ALL_ON).every((k) => current[k as keyof typeof ALL_ON] === true)) {
      return { already: `bucket ${intent.bucket} already blocks public access` };
    }
    await client.send(new PutPublicAccessBlockCommand({ ...bucket, PublicAccessBlockConfiguration: ALL_ON }));
    return {
      done: `turned on the public access block of bucket ${intent.bucket}`,
      refs: { bucket: intent.bucket },
    };
  },
  errors: {
    goneErrors: new Set(['NoSuchBucket']),
    gone: (intent) => `bucket ${intent.bucket} no longer exists`,
    failure: (intent) => `could not restore the public access block of bucket ${intent.bucket}`,
  },
});
