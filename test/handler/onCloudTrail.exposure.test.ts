import {
  DescribeImageAttributeCommand,
  DescribeSnapshotAttributeCommand,
  EC2Client,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  DBSnapshotNotFoundFault,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/**
 * Issue 18 (exposure) through the handler, every AWS client mocked: one record per detection pages (or
 * records) with who, what and where; the share remediation removes exactly what the call added, and on
 * a dry-run stage calls nothing that changes AWS.
 */

const onCloudTrail = await cloudTrailHandlerHarness();
const { aws, invoke, pages, setDryRun } = onCloudTrail;
const ec2 = aws.of(EC2Client);
const rds = aws.of(RDSClient);
const fixture = (name: string) => cloudTrailRecord(`exposure/${name}`);
/** The calls that change who may use a snapshot or an AMI (EBS or RDS). */
const mutatingCalls = () => [
  ...ec2.commandCalls(ModifySnapshotAttributeCommand),
  ...ec2.commandCalls(ModifyImageAttributeCommand),
  ...rds.commandCalls(ModifyDBSnapshotAttributeCommand),
  ...rds.commandCalls(ModifyDBClusterSnapshotAttributeCommand),
];

describe('onCloudTrail pages data shared out and databases made public, with who, what and where', () => {
  it.each([
    [
      'ebs-snapshot-public',
      '[CRITICAL]',
      'ebs snapshot snap-0a1b2c3d4e5f67890 made public',
      'example-role/example-user',
      'us-east-1',
    ],
    [
      'ebs-snapshot-shared-to-account',
      '[HIGH]',
      'foreignAccounts: 111122223333',
      'example-role/example-user',
      'us-east-1',
    ],
    ['rds-snapshot-shared-to-account', '[HIGH]', 'foreignAccounts: 193672423079', 'DevOps/jdoe', 'us-east-1'],
    [
      'rds-cluster-snapshot-public',
      '[CRITICAL]',
      'rds cluster snapshot myclustersnapshot made public',
      'DevOps/jdoe',
      'us-east-1',
    ],
    [
      'rds-instance-made-public',
      '[CRITICAL]',
      'rds instance production-db made publicly accessible',
      'DeveloperRole/developer',
      'us-east-1',
    ],
    [
      'rds-cluster-made-public',
      '[CRITICAL]',
      'rds cluster aurora-cluster made publicly accessible',
      'contractor',
      'us-west-2',
    ],
    [
      'rds-db-security-group-open-world',
      '[CRITICAL]',
      'DB security group mydbsecuritygroup opened to 0.0.0.0/0',
      'DevOps/jdoe',
      'us-east-1',
    ],
  ])('%s pages once as %s', async (name, severity, what, who, region) => {
    // Arrange
    const event = fixture(name);
    // Act
    await invoke(event);
    // Assert
    const sent = pages();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject.startsWith(severity)).toBe(true);
    expect(sent[0]?.body).toContain(what);
    expect(sent[0]?.body).toContain(`by ${who}`);
    expect(sent[0]?.body).toContain(`Account 123456789012, region ${region}`);
    expect(sent[0]?.body).toContain(`#/events/${event.detail.eventID}`);
  });
});

describe('onCloudTrail removes a share-out exactly (dev stage: remediation on)', () => {
  it('on a dry-run stage calls nothing that changes AWS, and the page says what it would remove', async () => {
    // Act
    const result = await invoke(fixture('ebs-snapshot-public'));
    // Assert
    expect(mutatingCalls()).toEqual([]);
    expect(result.outcomes.map((o) => [o.kind, o.status])).toEqual([
      ['ec2.revoke-share', 'skipped'],
      ['sns.page', 'done'],
    ]);
    expect(pages()[0]?.body).toContain(
      'SKIPPED (dry-run) ec2.revoke-share: would remove all from snapshot snap-0a1b2c3d4e5f67890',
    );
  });

  it('removes only `all` from a snapshot, leaving an account shared before', async () => {
    // Arrange
    setDryRun(false);
    ec2
      .on(DescribeSnapshotAttributeCommand)
      .resolves({ CreateVolumePermissions: [{ Group: 'all' }, { UserId: '444455556666' }] });
    ec2.on(ModifySnapshotAttributeCommand).resolves({});
    // Act
    const result = await invoke(fixture('ebs-snapshot-public'));
    // Assert
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      {
        SnapshotId: 'snap-0a1b2c3d4e5f67890',
        Attribute: 'createVolumePermission',
        OperationType: 'remove',
        GroupNames: ['all'],
      },
    ]);
    expect(result.outcomes[0]).toMatchObject({ kind: 'ec2.revoke-share', status: 'done' });
  });

  it('removes exactly the foreign account a call added to an AMI', async () => {
    // Arrange
    setDryRun(false);
    const event = cloudTrailRecord('exposure/ami-public', {
      withRequestParameters: { launchPermission: { add: { items: [{ userId: '999988887777' }] } } },
    });
    ec2.on(DescribeImageAttributeCommand).resolves({ LaunchPermissions: [{ UserId: '999988887777' }] });
    ec2.on(ModifyImageAttributeCommand).resolves({});
    // Act
    await invoke(event);
    // Assert
    expect(ec2.commandCalls(ModifyImageAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { ImageId: 'ami-0a1b2c3d4e5f67890', LaunchPermission: { Remove: [{ UserId: '999988887777' }] } },
    ]);
  });

  it('calls a share already removed already remediated, and changes nothing', async () => {
    // Arrange
    setDryRun(false);
    ec2.on(DescribeSnapshotAttributeCommand).resolves({ CreateVolumePermissions: [] });
    // Act
    const result = await invoke(fixture('ebs-snapshot-shared-to-account'));
    // Assert
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand)).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-remediated' });
  });

  it('refuses a shared snapshot recorded in another region, and touches nothing', async () => {
    // Arrange
    setDryRun(false);
    const event = cloudTrailRecord('exposure/ebs-snapshot-public', {
      region: 'eu-west-1',
      awsRegion: 'eu-west-1',
    });
    // Act: the function is in us-east-1; the record is from eu-west-1.
    const run = invoke(event, 'us-east-1');
    // Assert
    await expect(run).rejects.toThrow('this function runs in us-east-1 and acts only on its own');
    expect(ec2.commandCalls(DescribeSnapshotAttributeCommand)).toEqual([]);
    expect(mutatingCalls()).toEqual([]);
  });
});

describe('onCloudTrail removes an RDS snapshot share exactly (dev stage: remediation on)', () => {
  /** What RDS answers for a DB snapshot's `restore` attribute. */
  const restoreOf = (values: string[]) => ({
    DBSnapshotAttributesResult: {
      DBSnapshotIdentifier: 'my-db-snapshot',
      DBSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: values }],
    },
  });

  it('on a dry-run stage calls nothing that changes AWS, and the page says what it would remove', async () => {
    // Act
    const result = await invoke(fixture('rds-snapshot-shared-to-account'));
    // Assert
    expect(mutatingCalls()).toEqual([]);
    expect(rds.calls()).toEqual([]);
    expect(result.outcomes.map((o) => [o.kind, o.status])).toEqual([
      ['rds.revoke-snapshot-share', 'skipped'],
      ['sns.page', 'done'],
    ]);
    expect(pages()[0]?.body).toContain(
      'SKIPPED (dry-run) rds.revoke-snapshot-share: would remove account 193672423079 from DB snapshot my-db-snapshot',
    );
  });

  it('removes only the foreign account the call added to a DB snapshot, leaving an account shared before', async () => {
    // Arrange
    setDryRun(false);
    rds.on(DescribeDBSnapshotAttributesCommand).resolves(restoreOf(['444455556666', '193672423079']));
    rds.on(ModifyDBSnapshotAttributeCommand).resolves({});
    // Act
    const result = await invoke(fixture('rds-snapshot-shared-to-account'));
    // Assert
    expect(rds.commandCalls(ModifyDBSnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { DBSnapshotIdentifier: 'my-db-snapshot', AttributeName: 'restore', ValuesToRemove: ['193672423079'] },
    ]);
    expect(result.outcomes[0]).toMatchObject({ kind: 'rds.revoke-snapshot-share', status: 'done' });
    expect(pages()[0]?.body).toContain(
      'DONE rds.revoke-snapshot-share: removed account 193672423079 from DB snapshot my-db-snapshot',
    );
  });

  it('removes only `all` from a DB cluster snapshot made public, in one call', async () => {
    // Arrange
    setDryRun(false);
    rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({
      DBClusterSnapshotAttributesResult: {
        DBClusterSnapshotIdentifier: 'myclustersnapshot',
        DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: ['all', '444455556666'] }],
      },
    });
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
    // Act
    const result = await invoke(fixture('rds-cluster-snapshot-public'));
    // Assert
    expect(rds.commandCalls(ModifyDBClusterSnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { DBClusterSnapshotIdentifier: 'myclustersnapshot', AttributeName: 'restore', ValuesToRemove: ['all'] },
    ]);
    expect(rds.commandCalls(ModifyDBSnapshotAttributeCommand)).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({ kind: 'rds.revoke-snapshot-share', status: 'done' });
  });

  it('calls a share already removed already remediated, and changes nothing', async () => {
    // Arrange
    setDryRun(false);
    rds.on(DescribeDBSnapshotAttributesCommand).resolves(restoreOf(['444455556666']));
    // Act
    const result = await invoke(fixture('rds-snapshot-shared-to-account'));
    // Assert
    expect(mutatingCalls()).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({
      kind: 'rds.revoke-snapshot-share',
      status: 'skipped',
      reason: 'already-remediated',
    });
  });

  it('calls a snapshot deleted since nothing to do, and changes nothing', async () => {
    // Arrange
    setDryRun(false);
    rds
      .on(DescribeDBSnapshotAttributesCommand)
      .rejects(new DBSnapshotNotFoundFault({ message: 'DBSnapshot not found', $metadata: {} }));
    // Act
    const result = await invoke(fixture('rds-snapshot-shared-to-account'));
    // Assert
    expect(mutatingCalls()).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'nothing-to-do' });
  });

  it("refuses a snapshot named by another account's ARN, and touches nothing", async () => {
    // Arrange
    setDryRun(false);
    const event = cloudTrailRecord('exposure/rds-snapshot-shared-to-account', {
      withRequestParameters: {
        dBSnapshotIdentifier: 'arn:aws:rds:us-east-1:999988887777:snapshot:their-snapshot',
      },
    });
    // Act
    const result = await invoke(event);
    // Assert
    expect(rds.calls()).toEqual([]);
    expect(result.notes).toContainEqual(
      expect.objectContaining({ reason: 'out-of-scope', withheld: 'rds.revoke-snapshot-share' }),
    );
    expect(pages()).toHaveLength(1);
  });
});
