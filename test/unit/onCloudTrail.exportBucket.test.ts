import { describe, expect, it } from 'vitest';
import type { CloudTrailGathered } from '#functions/onCloudTrail/gather.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

/**
 * RDS `StartExportTask` (issue 18, "data shared out"): the record names the bucket, not its owner, so
 * gather asks whether this account owns it; another account's bucket pages, this account's is recorded,
 * and an answer that could not be read is recorded saying so, never paged as "another account".
 */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };

function decide(name: string, gathered: CloudTrailGathered, overrides: CloudTrailRecordOverrides = {}) {
  const config = makeConfig();
  const record = cloudTrailRecord(`exposure/${name}`, overrides);
  const observation = observeCloudTrail(CloudTrailEvent.parse(record), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered, config });
  return { observation, plan, decision: [plan.findings?.detection ?? null, plan.findings?.action] };
}

describe('rds-exported-to-s3', () => {
  it("pages an export to another account's bucket, naming the bucket and saying whose it is not", () => {
    // Act
    const { plan, decision } = decide('rds-export-to-s3-foreign-bucket', {
      exportBucketOwner: { bucket: 'partner-data-drop', owned: false },
    });
    // Assert
    expect(decision).toEqual(['rds-exported-to-s3', 'page']);
    const page = JSON.stringify(plan.intents);
    expect(page).toContain('exported to S3 bucket partner-data-drop');
    expect(page).toContain('partner-data-drop is not a bucket of account 123456789012');
  });

  it("records an export to this account's own bucket, saying why it did not page", () => {
    // Act
    const { plan, decision } = decide('rds-export-to-s3', {
      exportBucketOwner: { bucket: 'mybucket', owned: true },
    });
    // Assert
    expect(decision).toEqual(['rds-exported-to-s3', 'record']);
    expect(plan.intents).toEqual([]);
    expect(plan.notes).toEqual([
      expect.objectContaining({
        reason: 'record-only',
        detail: expect.stringContaining('mybucket is a bucket of account 123456789012'),
      }),
    ]);
  });

  it('records an export whose bucket owner could not be read, saying so and not claiming another account', () => {
    // Act
    const { plan, decision } = decide('rds-export-to-s3-foreign-bucket', {
      exportBucketOwner: { bucket: 'partner-data-drop', unreadable: 'AccessDenied: not authorized' },
    });
    // Assert
    expect(decision).toEqual(['rds-exported-to-s3', 'record']);
    expect(plan.intents).toEqual([]);
    const [note] = plan.notes;
    expect(note?.detail).toContain(
      'could not tell whether partner-data-drop is a bucket of account 123456789012 (AccessDenied: not authorized)',
    );
    expect(note?.detail).toContain('check who owns it');
    expect(note?.detail).not.toContain('another account');
  });

  it('asks gather for the bucket the record names, and for nothing else', () => {
    // Act
    const { observation } = decide('rds-export-to-s3-foreign-bucket', {});
    // Assert
    expect(observation.facts.decided?.finding.pagesOnlyIf).toEqual({
      bucketOutsideAccount: 'partner-data-drop',
    });
  });

  it('records an export whose bucket name is not a bucket name, without looking it up or paging', () => {
    // Act
    const { observation, plan, decision } = decide(
      'rds-export-to-s3-foreign-bucket',
      {},
      { withRequestParameters: { s3BucketName: 'Not A Bucket/../x' } },
    );
    // Assert
    expect(observation.facts.decided?.finding.pagesOnlyIf).toEqual({ bucketOutsideAccount: null });
    expect(decision).toEqual(['rds-exported-to-s3', 'record']);
    expect(plan.notes[0]?.detail).toContain('the bucket name in the record is unreadable');
  });
});
