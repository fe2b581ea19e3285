import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { trailLogBuckets } from '#functions/onCloudTrail/trailLogBuckets.ts';
import { readKillSwitch } from '#shared/runtime/killSwitch.ts';
import { putBackAfterFile } from '../support/sharedWorker.ts';

/**
 * The handler files share their workers (vitest.config.ts): what a file's modules cached must be gone
 * before the next file, or a file reads the kill switch or the trails another file's mocks answered.
 */
describe('the put-back after each file of a shared worker', () => {
  it('forgets the kill switch a file read, so the next file reads its own', async () => {
    // Arrange: a file whose SSM says dry-run reads the switch (cached 60 s).
    mockClient(SSMClient)
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: 'dry-run' } });
    expect((await readKillSwitch('dev')).forced).toBe(true);
    // Act: the file ends; the next one's SSM says live.
    putBackAfterFile();
    mockClient(SSMClient)
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: 'live' } });
    // Assert
    expect((await readKillSwitch('dev')).forced).toBe(false);
    putBackAfterFile();
  });

  it("forgets the trails' log buckets a file read, so the next file reads its own", async () => {
    // Arrange
    const answering = (bucket: string) =>
      mockClient(CloudTrailClient)
        .on(DescribeTrailsCommand)
        .resolves({ trailList: [{ Name: 'management', S3BucketName: bucket }] });
    answering('first-file-logs');
    const first = JSON.stringify(await trailLogBuckets());
    // Act
    putBackAfterFile();
    answering('next-file-logs');
    const next = JSON.stringify(await trailLogBuckets());
    // Assert
    expect(first).toContain('first-file-logs');
    expect(next).toContain('next-file-logs');
    putBackAfterFile();
  });
});
