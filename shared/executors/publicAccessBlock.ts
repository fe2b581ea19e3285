import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand } from '@aws-sdk/client-s3';
import { s3 } from '#shared/aws/s3.ts';
import type { RestorePublicAccessBlockIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import type { MutatingExecutor } from './types.ts';

const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const;

/** Turns the bucket's public access block fully on; a block already fully on is left alone. */
export const restorePublicAccessBlockExecutor: MutatingExecutor<RestorePublicAccessBlockIntent> = {
  kind: 's3.restore-public-access-block',
  // Its S3 actions: the statement its remediation grants (functions/onCloudTrail/detections/remediations.ts).
  permissions: [],
  metrics: { done: 'RemediationsDone', refused: { 'already-remediated': 'RemediationsAlreadyDone' } },
  mutates: true,
  budgetMs: 10_000,
  // The incident is the CloudTrail record: a forwarded or redelivered copy of it holds one slot.
  rateGuard: (intent, ctx) => ({
    rule: intent.detection,
    actionId: `${intent.kind}|${ctx.signal.incidentKey}`,
  }),
  preview: (intent) => `turn on all four public access block settings of bucket ${intent.bucket}`,
  async execute(intent) {
    const bucket = { Bucket: intent.bucket, ExpectedBucketOwner: intent.expectedOwner };
    try {
      const current = await s3
        .send(new GetPublicAccessBlockCommand(bucket))
        .then((r) => r.PublicAccessBlockConfiguration)
        .catch((error: { name?: string }) => {
          if (error.name === 'NoSuchPublicAccessBlockConfiguration') return undefined;
          throw error;
        });
      if (current && Object.keys(ALL_ON).every((k) => current[k as keyof typeof ALL_ON] === true)) {
        return skipped(
          intent.kind,
          'already-remediated',
          `bucket ${intent.bucket} already blocks public access`,
        );
      }
      await s3.send(new PutPublicAccessBlockCommand({ ...bucket, PublicAccessBlockConfiguration: ALL_ON }));
      return done(intent.kind, `turned on the public access block of bucket ${intent.bucket}`, {
        bucket: intent.bucket,
      });
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchBucket') {
        return skipped(intent.kind, 'nothing-to-do', `bucket ${intent.bucket} no longer exists`);
      }
      return failed(
        intent.kind,
        error,
        `could not restore the public access block of bucket ${intent.bucket}`,
      );
    }
  },
};
