import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/**
 * An RDS export to S3 against the emulator: gather's ListBuckets is the real SDK call, answered by the
 * emulator's buckets, so the bucket this account created is recorded and one it never made pages.
 */

let handler: typeof import('#functions/onCloudTrail/handler.ts').handler;
const invoke = (event: unknown) =>
  handler(event as never, makeContext('ops-autopilot-dev-onCloudTrail')) as Promise<PipelineResult>;

useEmulatedStack('ops-autopilot-cloudtrail-export', { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onCloudTrail/handler.ts'));
});

describe('onCloudTrail on an RDS export against the emulator', () => {
  it('records an export to a bucket of this account and pages one to a bucket it does not own', async () => {
    // Arrange
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'mybucket' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'partner-data-drop-archive' }));
    // Act
    const own = await invoke(cloudTrailRecord('exposure/rds-export-to-s3'));
    const foreign = await invoke(cloudTrailRecord('exposure/rds-export-to-s3-foreign-bucket'));
    // Assert
    expect(own.findings).toEqual({ detection: 'rds-exported-to-s3', action: 'record' });
    expect(foreign.findings).toEqual({ detection: 'rds-exported-to-s3', action: 'page' });
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.body).toContain('partner-data-drop is not a bucket of account 123456789012');
  });
});
