import { describe, expect, it } from 'vitest';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/**
 * Issue 18: the calls an audit found without a positive fixture, each paged or recorded as the issue
 * says (security tooling silenced and data shared out page; region, credential and bucket replication
 * changes are recorded for the review).
 */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };

function decide(name: string) {
  const config = makeConfig();
  const observation = observeCloudTrail(CloudTrailEvent.parse(cloudTrailRecord(name)), {
    config,
    site: SITE,
  });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return {
    decision: [plan.findings?.detection ?? null, plan.findings?.action],
    what: observation.facts.decided?.finding.what,
    severity: observation.facts.decided?.settings.severity,
    pages: plan.intents.filter((i) => i.kind === 'sns.page').length,
    remediation: observation.facts.decided?.finding.remediation,
  };
}

describe('onCloudTrail on the calls the audit found untested', () => {
  it.each([
    ['evidence/macie-disabled', 'security-tooling-disabled', 'Macie disabled', 'high'],
    [
      'evidence/guardduty-ipset-updated',
      'guardduty-findings-suppressed',
      'GuardDuty trusted IP list 0cb0141ab9fbde177613ab9436212e90 changed',
      'high',
    ],
    [
      'evidence/guardduty-filter-updated-archive',
      'guardduty-findings-suppressed',
      'GuardDuty filter myFilter auto-archives findings',
      'high',
    ],
    [
      'exposure/rds-snapshot-public',
      'data-shared-publicly',
      'rds snapshot my-db-snapshot made public (shared with all AWS accounts)',
      'critical',
    ],
    [
      'exposure/rds-cluster-snapshot-shared-to-account',
      'data-shared-out',
      'rds cluster snapshot myclustersnapshot shared with an account outside this account and organization: 193672423079',
      'high',
    ],
  ])('pages %s as %s: "%s" (%s)', (name, detection, what, severity) => {
    // Act
    const decided = decide(name);
    // Assert
    expect(decided.decision).toEqual([detection, 'page']);
    expect(decided.pages).toBe(1);
    expect(decided.what).toBe(what);
    expect(decided.severity).toBe(severity);
  });

  it.each([
    ['records/account-disable-region', 'region-opt-in-change', 'region us-west-2 disabled'],
    [
      'records/iam-create-login-profile-other-user',
      'credentials-for-another-user',
      'a console password set for IAM user bob',
    ],
    [
      'records/s3-put-bucket-replication',
      's3-bucket-policy-change',
      'PutBucketReplication on example-reports',
    ],
  ])('records %s as %s: "%s", without a page', (name, detection, what) => {
    // Act
    const decided = decide(name);
    // Assert
    expect(decided.decision).toEqual([detection, 'record']);
    expect(decided.pages).toBe(0);
    expect(decided.what).toBe(what);
  });

  it('offers an exact undo for each RDS share: everyone for `all`, the one account otherwise', () => {
    // Act
    const everyone = decide('exposure/rds-snapshot-public').remediation;
    const one = decide('exposure/rds-cluster-snapshot-shared-to-account').remediation;
    // Assert
    expect(everyone).toEqual({
      kind: 'revoke-rds-snapshot-share',
      resource: 'db-snapshot',
      id: 'my-db-snapshot',
      everyone: true,
      accounts: [],
    });
    expect(one).toEqual({
      kind: 'revoke-rds-snapshot-share',
      resource: 'db-cluster-snapshot',
      id: 'myclustersnapshot',
      everyone: false,
      accounts: ['193672423079'],
    });
  });
});
