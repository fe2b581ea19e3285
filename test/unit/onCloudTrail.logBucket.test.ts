import { describe, expect, it } from 'vitest';
import type { CloudTrailGathered } from '#functions/onCloudTrail/gather.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { trailLogBucketCache } from '#functions/onCloudTrail/trailLogBuckets.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { renderPage } from '#shared/domain/page.ts';
import { makeConfig } from '../support/config.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

/**
 * A lifecycle rule that expires a CloudTrail log bucket's objects (issue 18): paged when the bucket is
 * a trail's log bucket (gather reads the trails), recorded for any other bucket.
 */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const fixture = (name: string, overrides: CloudTrailRecordOverrides = {}) =>
  cloudTrailRecord(`evidence/${name}`, overrides);
/** The log bucket's expiring lifecycle call with these rules instead of its one. */
const withRules = (rules: unknown[]) =>
  fixture('cloudtrail-log-bucket-expiry', {
    withRequestParameters: {
      LifecycleConfiguration: { Rule: rules, xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
    },
  });
const TRAIL_BUCKET = 'sample-cloudtrail-bucket-name';
const trails: CloudTrailGathered = {
  trailLogBuckets: { buckets: { [TRAIL_BUCKET]: ['management-events'] } },
};

function decide(name: string, gathered: CloudTrailGathered = trails) {
  const config = makeConfig();
  const observation = observeCloudTrail(CloudTrailEvent.parse(fixture(name)), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered, config });
  return { observation, plan, decision: [plan.findings?.detection ?? null, plan.findings?.action] };
}

describe('cloudtrail-log-expiry', () => {
  it("pages an enabled expiration rule on a trail's log bucket, naming the trail and the rule", () => {
    // Act
    const { observation, plan, decision } = decide('cloudtrail-log-bucket-expiry');
    // Assert
    expect(decision).toEqual(['cloudtrail-log-expiry', 'page']);
    expect(observation.facts.decided?.finding.what).toBe(
      `lifecycle rule expires objects of S3 bucket ${TRAIL_BUCKET}`,
    );
    expect(observation.facts.decided?.finding.evidence).toMatchObject({
      expiringRules: 'nuke-cloudtrail-logs-after-1-day (after 1 day)',
    });
    expect(JSON.stringify(plan.intents)).toContain(`log bucket of trail management-events`);
  });

  it('records the same rule on a bucket no trail logs to, and says why it did not page', () => {
    // Act
    const { plan, decision } = decide('lifecycle-expiry-unrelated-bucket');
    // Assert
    expect(decision).toEqual(['cloudtrail-log-expiry', 'record']);
    expect(plan.intents).toEqual([]);
    expect(plan.notes).toEqual([
      expect.objectContaining({
        reason: 'record-only',
        withheld: 'sns.page',
        detail: expect.stringContaining('example-reports is the log bucket of no trail of this account'),
      }),
    ]);
  });

  it('pages when the trails could not be read: a person checks rather than the record being lost', () => {
    // Act
    const { plan, decision } = decide('cloudtrail-log-bucket-expiry', {
      trailLogBuckets: { unreadable: 'AccessDeniedException: not authorized' },
    });
    // Assert
    expect(decision).toEqual(['cloudtrail-log-expiry', 'page']);
    expect(JSON.stringify(plan.intents)).toContain('could not read the trails');
  });

  it.each([
    ['cloudtrail-log-bucket-transition-only', 'a transition-only rule deletes nothing'],
    ['cloudtrail-log-bucket-expiry-disabled', 'a disabled rule does nothing'],
  ])('does not match %s (%s): the lifecycle change is recorded as before', (name) => {
    // Act
    const { decision } = decide(name);
    // Assert
    expect(decision).toEqual(['s3-bucket-policy-change', 'record']);
  });

  it("records a rule on a bucket named like an object's own property (constructor) that no trail logs to", () => {
    // Arrange: `constructor` is a valid bucket name, and a plain object's inherited property.
    const raw = fixture('lifecycle-expiry-unrelated-bucket', {
      withRequestParameters: { bucketName: 'constructor' },
    });
    const config = makeConfig();
    const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
    // Act
    const plan = planCloudTrail({ ...observation, gathered: trails, config });
    // Assert
    expect(plan.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'record' });
    expect(plan.notes).toEqual([
      expect.objectContaining({
        detail: expect.stringContaining('constructor is the log bucket of no trail of this account'),
      }),
    ]);
  });

  it('keeps who made the call in the page when the lifecycle has 850 expiring rules with long ids', () => {
    // Arrange: rule ids of 250 characters, as many as fit in one EventBridge event (256 KB).
    const raw = withRules(
      Array.from({ length: 850 }, (_, i) => ({
        ID: `${String(i).padStart(3, '0')}-${'x'.repeat(246)}`,
        Status: 'Enabled',
        Expiration: { Days: 1 },
      })),
    );
    const config = makeConfig();
    const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
    const plan = planCloudTrail({ ...observation, gathered: trails, config });
    const page = plan.intents.find((i): i is PageIntent => i.kind === 'sns.page');
    // Act
    const body = page
      ? renderPage(page, { outcomes: [], repeats: 0, stage: 'dev', dryRun: true, pageId: 'p-1' }).body
      : '';
    // Assert
    expect(Buffer.byteLength(JSON.stringify(raw))).toBeLessThan(256 * 1024);
    expect(body).toContain(`principal: ${observation.signal.evidence.principal}`);
    expect(body).toContain('and 840 more');
    expect(body).not.toContain('This page was shortened');
  });

  it('reads a Date expiration and several rules, and shows a crafted rule id as unreadable', () => {
    // Arrange
    const raw = withRules([
      { ID: 'keep', Status: 'Enabled', Transition: { Days: 30, StorageClass: 'GLACIER' } },
      { ID: 'drop\nall', Status: 'Enabled', Expiration: { Date: '2025-01-01T00:00:00Z' } },
    ]);
    const config = makeConfig();
    // Act
    const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
    // Assert
    expect(observation.facts.decided?.finding.evidence).toMatchObject({
      expiringRules: '(unreadable) (on 2025-01-01T00:00:00Z)',
    });
  });
});

describe("the trails' log buckets, cached per container", () => {
  it('keeps a trail whose log bucket is named like an inherited property (constructor)', async () => {
    // Arrange
    const cache = trailLogBucketCache({
      ttlMs: 300_000,
      read: async () => [{ name: 'management-events', bucket: 'constructor' }],
    });
    // Act
    const read = await cache.get();
    // Assert
    expect(read).toEqual({ buckets: { constructor: ['management-events'] } });
  });

  it('reads DescribeTrails once within the TTL, again after it, and never caches a failure', async () => {
    // Arrange
    let now = 0;
    let reads = 0;
    let fail = true;
    const cache = trailLogBucketCache({
      ttlMs: 300_000,
      now: () => now,
      read: async () => {
        reads++;
        if (fail) throw new Error('Throttling');
        return [{ name: 'management-events', bucket: TRAIL_BUCKET }];
      },
    });
    // Act
    const failed = await cache.get();
    fail = false;
    const first = await cache.get();
    now = 299_999;
    await cache.get();
    now = 300_000;
    await cache.get();
    // Assert
    expect(failed).toEqual({ unreadable: 'Error: Throttling' });
    expect(first).toEqual({ buckets: { [TRAIL_BUCKET]: ['management-events'] } });
    expect(reads).toBe(3);
  });
});
