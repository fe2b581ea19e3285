import { DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { anotherRecordOf, cloudTrailRecord } from '../support/events/index.ts';

/**
 * A lifecycle rule that expires a CloudTrail log bucket's objects, through the handler with every AWS
 * client mocked: gather reads the trails (DescribeTrails, once per container within its TTL), the
 * record pages when the bucket is a trail's log bucket and is recorded otherwise.
 */

const { cloudtrail, invoke, pages } = await cloudTrailHandlerHarness({
  trails: [
    { Name: 'management-events', S3BucketName: 'sample-cloudtrail-bucket-name' },
    { Name: 'data-events', S3BucketName: 'example-data-event-logs' },
  ],
});
const fixture = (name: string) => cloudTrailRecord(`evidence/${name}`);

describe("onCloudTrail pages a lifecycle rule that expires a trail's log bucket", () => {
  it("pages a 1-day expiration on a trail's log bucket once, with the trail, the rule and who", async () => {
    // Act
    const result = await invoke(fixture('cloudtrail-log-bucket-expiry'));
    // Assert
    const sent = pages();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject.startsWith('[HIGH]')).toBe(true);
    expect(sent[0]?.body).toContain(
      'lifecycle rule expires objects of S3 bucket sample-cloudtrail-bucket-name',
    );
    expect(sent[0]?.body).toContain('log bucket of trail management-events');
    expect(sent[0]?.body).toContain('expiringRules: nuke-cloudtrail-logs-after-1-day (after 1 day)');
    expect(sent[0]?.body).toContain('by SampleRole/leroy.jenkins');
    expect(result.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'page' });
  });

  it('records the same rule on a bucket no trail logs to, without a page', async () => {
    // Act
    const result = await invoke(fixture('lifecycle-expiry-unrelated-bucket'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'record' });
    expect(result.notes[0]?.detail).toContain(
      'example-reports is the log bucket of no trail of this account',
    );
  });

  it('records a transition-only rule on the log bucket as a bucket change, without reading the trails', async () => {
    // Act
    const result = await invoke(fixture('cloudtrail-log-bucket-transition-only'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.findings).toEqual({ detection: 's3-bucket-policy-change', action: 'record' });
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)).toEqual([]);
  });

  it('reads the trails once for two records in one container within the TTL', async () => {
    // Act
    await invoke(fixture('cloudtrail-log-bucket-expiry'));
    await invoke(anotherRecordOf(fixture('lifecycle-expiry-unrelated-bucket')));
    // Assert
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)).toHaveLength(1);
    expect(cloudtrail.commandCalls(DescribeTrailsCommand)[0]?.args[0].input).toEqual({
      includeShadowTrails: true,
    });
  });

  it('pages when DescribeTrails is refused, saying the trails could not be read', async () => {
    // Arrange
    cloudtrail.on(DescribeTrailsCommand).rejects(new Error('not authorized to DescribeTrails'));
    // Act
    await invoke(fixture('lifecycle-expiry-unrelated-bucket'));
    // Assert
    expect(pages()).toHaveLength(1);
    expect(pages()[0]?.body).toContain('could not read the trails');
  });
});
