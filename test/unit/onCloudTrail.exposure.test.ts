import { describe, expect, it } from 'vitest';
import { type DetectionContext, TRUSTS_NO_ONE } from '#functions/onCloudTrail/detections/declaration.ts';
import { detect } from '#functions/onCloudTrail/detections.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

const raw = (name: string, overrides: CloudTrailRecordOverrides = {}) =>
  cloudTrailRecord(`exposure/${name}`, overrides);
const deciding = (record: unknown, context: DetectionContext = TRUSTS_NO_ONE) =>
  detect(CloudTrailEvent.parse(record), DETECTION_NAMES, context)[0];

describe('data shared out or made public (issue 18, exposure)', () => {
  it.each([
    ['ebs-snapshot-public', 'data-shared-publicly', 'ebs snapshot snap-0a1b2c3d4e5f67890 made public'],
    ['ami-public', 'data-shared-publicly', 'ami ami-0a1b2c3d4e5f67890 made public'],
    [
      'rds-cluster-snapshot-public',
      'data-shared-publicly',
      'rds cluster snapshot myclustersnapshot made public',
    ],
    [
      'ebs-snapshot-shared-to-account',
      'data-shared-out',
      'ebs snapshot snap-0a1b2c3d4e5f67890 shared with an account outside this account and organization: 111122223333',
    ],
    [
      'rds-snapshot-shared-to-account',
      'data-shared-out',
      'rds snapshot my-db-snapshot shared with an account outside this account and organization: 193672423079',
    ],
  ])('%s pages as %s, naming the resource and whom it was opened to', (name, detection, what) => {
    // Act
    const found = deciding(raw(name));
    // Assert
    expect(found?.detection).toBe(detection);
    expect(found?.what).toContain(what);
  });

  it.each([
    ['ebs-snapshot-group-none', 'a group other than all'],
    ['ami-other-attribute', 'an attribute other than the launch permission'],
    [
      'ami-shared-to-unreadable-user',
      'a grantee that is not an account id (shown as unreadable, never as shared out)',
    ],
  ])('%s is no share-out: %s', (name) => {
    // Act / Assert
    expect(deciding(raw(name))).toBeUndefined();
  });

  it('does not page a snapshot shared with an account on the stage allow-list, and pages the same share on a stage without it', () => {
    // Arrange
    const trusting = { trustedAccounts: new Set(['111122223333']) };
    // Act / Assert
    expect(deciding(raw('ebs-snapshot-shared-to-account'), trusting)).toBeUndefined();
    expect(deciding(raw('rds-snapshot-shared-to-trusted-account'), trusting)).toBeUndefined();
    expect(deciding(raw('rds-snapshot-shared-to-trusted-account'))?.detection).toBe('data-shared-out');
  });

  it('does not page a private AMI share to an account on the stage allow-list, and pages and revokes it elsewhere', () => {
    // Arrange
    const trusting = { trustedAccounts: new Set(['111122223333']) };
    // Act
    const untrusted = deciding(raw('ami-shared-to-account'));
    // Assert
    expect(deciding(raw('ami-shared-to-account'), trusting)).toBeUndefined();
    expect(untrusted?.detection).toBe('data-shared-out');
    expect(untrusted?.what).toContain('ami ami-0a1b2c3d4e5f67890 shared with an account outside');
    expect(untrusted?.remediation).toEqual({
      kind: 'revoke-ec2-share',
      resource: 'image',
      id: 'ami-0a1b2c3d4e5f67890',
      everyone: false,
      accounts: ['111122223333'],
    });
  });

  it("does not page an AMI shared with the stage's own organization, and pages it for another organization", () => {
    // Arrange
    const ours = { trustedAccounts: new Set<string>(), organizationId: 'o-exampleorgid' };
    const theirs = { trustedAccounts: new Set<string>(), organizationId: 'o-otherorgid1' };
    // Act / Assert
    expect(deciding(raw('ami-shared-to-own-organization'), ours)).toBeUndefined();
    expect(deciding(raw('ami-shared-to-own-organization'), theirs)?.detection).toBe('data-shared-out');
  });

  it('pages `all` as public even when the same call also adds a trusted account, and removes only `all`', () => {
    // Arrange
    const record = raw('ebs-snapshot-public', {
      withRequestParameters: {
        createVolumePermission: {
          add: { items: [{ group: 'all' }, { userId: '111122223333' }] },
        },
      },
    });
    // Act
    const found = deciding(record, { trustedAccounts: new Set(['111122223333']) });
    // Assert
    expect(found?.detection).toBe('data-shared-publicly');
    expect(found?.remediation).toEqual({
      kind: 'revoke-ec2-share',
      resource: 'snapshot',
      id: 'snap-0a1b2c3d4e5f67890',
      everyone: true,
      accounts: [],
    });
  });

  it('shows a crafted snapshot id as unreadable and offers no remediation for it', () => {
    // Arrange
    const record = raw('ebs-snapshot-public', { withRequestParameters: { snapshotId: 'snap-1; rm -rf /' } });
    // Act
    const found = deciding(record);
    // Assert
    expect(found?.what).toBe('ebs snapshot (unreadable) made public (shared with all AWS accounts)');
    expect(found?.remediation).toBeUndefined();
    expect(found?.resource).toBeUndefined();
  });

  it('removes exactly the foreign accounts and `all` an RDS snapshot share added, never a trusted account', () => {
    // Arrange
    const record = raw('rds-snapshot-shared-to-account', {
      withRequestParameters: { valuesToAdd: ['all', '111122223333', '193672423079'] },
    });
    // Act
    const found = deciding(record, { trustedAccounts: new Set(['111122223333']) });
    // Assert
    expect(found?.detection).toBe('data-shared-publicly');
    expect(found?.remediation).toEqual({
      kind: 'revoke-rds-snapshot-share',
      resource: 'db-snapshot',
      id: 'my-db-snapshot',
      everyone: true,
      accounts: ['193672423079'],
    });
  });

  it('names and removes an account a call lists twice once', () => {
    // Arrange
    const record = raw('rds-snapshot-shared-to-account', {
      withRequestParameters: { valuesToAdd: ['193672423079', '193672423079'] },
    });
    // Act
    const found = deciding(record);
    // Assert
    expect(found?.what).toBe(
      'rds snapshot my-db-snapshot shared with an account outside this account and organization: 193672423079',
    );
    expect(found?.remediation).toMatchObject({ everyone: false, accounts: ['193672423079'] });
  });

  it('offers the cluster snapshot remediation for a cluster snapshot, and none for an ARN of the other kind', () => {
    // Arrange
    const cluster = raw('rds-cluster-snapshot-public');
    const mislabelled = raw('rds-cluster-snapshot-public', {
      withRequestParameters: {
        dBClusterSnapshotIdentifier: 'arn:aws:rds:us-east-1:123456789012:snapshot:not-a-cluster-snapshot',
      },
    });
    // Act
    const found = deciding(cluster);
    const crafted = deciding(mislabelled);
    // Assert
    expect(found?.remediation).toEqual({
      kind: 'revoke-rds-snapshot-share',
      resource: 'db-cluster-snapshot',
      id: 'myclustersnapshot',
      everyone: true,
      accounts: [],
    });
    expect(crafted?.detection).toBe('data-shared-publicly');
    expect(crafted?.remediation).toBeUndefined();
  });

  it("finds an RDS export to S3 with its source and bucket, paging only if gather finds the bucket is another account's", () => {
    // Act
    const found = deciding(raw('rds-export-to-s3'));
    // Assert
    expect(found?.detection).toBe('rds-exported-to-s3');
    expect(found?.what).toBe(
      'arn:aws:rds:us-east-1:123456789012:snapshot:my-snapshot exported to S3 bucket mybucket',
    );
    expect(found?.evidence).toMatchObject({ exportTask: 'my-snapshot-export', bucket: 'mybucket' });
    expect(found?.pagesOnlyIf).toEqual({ bucketOutsideAccount: 'mybucket' });
  });
});

describe('databases reachable from the internet (issue 18, exposure)', () => {
  it.each([
    [
      'rds-instance-made-public',
      'database-public',
      'rds instance production-db made publicly accessible (ModifyDBInstance)',
    ],
    [
      'rds-cluster-made-public',
      'database-public',
      'rds cluster aurora-cluster made publicly accessible (ModifyDBCluster)',
    ],
    [
      'rds-restore-public',
      'database-public',
      'rds instance test-instance made publicly accessible (RestoreDBInstanceFromDBSnapshot)',
    ],
    [
      'rds-create-instance-public',
      'database-public',
      'rds instance test-instance made publicly accessible (CreateDBInstance)',
    ],
    [
      'rds-db-security-group-open-world',
      'db-security-group-open-to-world',
      'DB security group mydbsecuritygroup opened to 0.0.0.0/0',
    ],
  ])('%s pages as %s', (name, detection, what) => {
    // Act
    const found = deciding(raw(name));
    // Assert
    expect(found?.detection).toBe(detection);
    expect(found?.what).toBe(what);
  });

  it.each([
    ['rds-instance-made-private', 'PubliclyAccessible set to false'],
    ['rds-instance-storage-modified', 'a modification that leaves PubliclyAccessible alone'],
    ['rds-restore-not-public', 'a restore whose response says not public'],
    ['rds-db-security-group-office-range', 'a DB security group opened to one office range, not the world'],
  ])('%s does not page: %s', (name) => {
    // Act / Assert
    expect(deciding(raw(name))).toBeUndefined();
  });

  it('never pages an unreadable PubliclyAccessible flag as public', () => {
    // Arrange
    const record = raw('rds-instance-made-public', { withRequestParameters: { publiclyAccessible: 'yes' } });
    // Act / Assert
    expect(deciding(record)).toBeUndefined();
  });
});
