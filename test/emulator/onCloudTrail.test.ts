import {
  CloudTrailClient,
  CreateTrailCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
  StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotAttributeCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateBucketCommand,
  GetPublicAccessBlockCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { setDryRun } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';
import { anotherDeliveryOf, anotherRecordOf, cloudTrailRecord } from '../support/events/index.ts';

let handler: typeof import('#functions/onCloudTrail/handler.ts').handler;

const STACK = 'ops-autopilot-cloudtrail';
const invoke = (event: unknown) =>
  handler(event as never, makeContext('ops-autopilot-dev-onCloudTrail')) as Promise<PipelineResult>;
const fixture = (name: string) => cloudTrailRecord(name);

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onCloudTrail/handler.ts'));
});

describe('onCloudTrail against the emulator', () => {
  it.each([
    ['security-group-open-world', 'opened: tcp 22 from 0.0.0.0/0'],
    ['security-group-open-world-ipv6', 'opened: tcp 3389 from ::/0'],
    ['security-group-open-world-flat', 'opened: tcp 5432 from 0.0.0.0/0'],
    ['security-group-modify-rules-world', 'opened: sgr-0a1b2c3d4e5f67890: tcp 443 from 0.0.0.0/0'],
    ['s3-bucket-policy-public', 'publicStatement: {"Sid":"PublicRead","Effect":"Allow","Principal":"*"'],
    ['s3-bucket-acl-all-users', 'publicGrant: READ to AllUsers'],
    ['s3-public-access-block-deleted', 's3 bucket example-reports'],
    ['s3-public-access-block-off', 'turnedOff: BlockPublicAcls, IgnorePublicAcls'],
    ['cloudtrail-stop-logging', 'stopped logging'],
    ['cloudtrail-delete-trail', 'trail management-events deleted'],
    ['cloudtrail-event-selectors-read-only', 'no longer records write management events'],
    ['iam-attach-admin-to-role', 'policyArn: arn:aws:iam::aws:policy/AdministratorAccess'],
    ['iam-put-user-policy-star', 'statement: {"Effect":"Allow","Action":"*","Resource":"*"}'],
    ['root-create-access-key', 'newAccessKeyId: AKIAEXAMPLEROOTKEY12'],
    ['root-console-sign-in', 'the root user signed in to the console'],
    ['console-sign-in-no-mfa', 'MFAUsed: No'],
    ['guardduty-delete-detector', 'GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 deleted'],
    ['vpc-delete-flow-logs', 'VPC flow logs deleted: fl-0123456789abcdef0'],
    ['config-stop-recorder', 'AWS Config recorder default stopped'],
    ['kms-schedule-key-deletion', 'pendingWindowInDays: 7'],
  ])('pages %s once, with who, what and where', async (name, what) => {
    // Arrange
    const event = fixture(name);
    // Act
    await invoke(event);
    await invoke(structuredClone(event));
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    const body = pages[0]?.body ?? '';
    expect(body).toContain(what);
    expect(body).toContain('principalType: ');
    expect(body).toContain('Account 123456789012, region us-east-1');
    expect(body).toContain('sourceIPAddress: ');
    expect(body).toContain(`#/events/${event.detail.eventID}`);
    expect(pages[0]?.attributes.kind).toBe('cloudtrail.detection');
  });

  it('pages a forwarded copy of a record (a new envelope id, the same CloudTrail event id) once', async () => {
    // Arrange
    const event = fixture('security-group-open-world');
    const forwarded = anotherDeliveryOf(event);
    // Act
    await invoke(event);
    await invoke(forwarded);
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
  });

  it.each([
    ['security-group-ingress-32', 'security-group-change'],
    ['s3-bucket-policy-private', 's3-bucket-policy-change'],
    ['console-sign-in-failure', 'console-sign-in-failure'],
    ['unauthorized-api-call', 'unauthorized-api-call'],
  ])('records %s in the action log as %s, without a page', async (name, detection) => {
    // Act
    await invoke(fixture(name));
    // Assert
    expect(await stack.readPages()).toEqual([]);
    const log = (await stack.scanTable()).filter((r) => String(r.id).includes('#action#'));
    expect(log).toHaveLength(1);
    expect(JSON.stringify(log[0])).toContain(`detection ${detection}`);
    expect(JSON.stringify(log[0])).toContain('record-only');
  });

  it.each(['console-sign-in-mfa-upper-case', 'console-sign-in-saml', 'console-sign-in-identity-center'])(
    'pages nothing for %s',
    async (name) => {
      // Act
      const result = await invoke(fixture(name));
      // Assert
      expect(await stack.readPages()).toEqual([]);
      expect(result.notes.map((n) => n.reason)).toEqual(['no-matching-rule']);
    },
  );
});

describe("onCloudTrail reads the trails' log buckets from the emulator (cloudtrail-log-expiry)", () => {
  it('pages an expiration rule on the bucket a trail logs to, and records the same rule on another bucket', async () => {
    // Arrange: a trail logging to the bucket the record names, read afresh.
    const { resetTrailLogBucketsForTests } = await import('#functions/onCloudTrail/trailLogBuckets.ts');
    resetTrailLogBucketsForTests();
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'sample-cloudtrail-bucket-name' }));
    await new CloudTrailClient({}).send(
      new CreateTrailCommand({ Name: 'management-events', S3BucketName: 'sample-cloudtrail-bucket-name' }),
    );
    // Act
    const onTrailBucket = await invoke(
      loadFixture('onCloudTrail/evidence/cloudtrail-log-bucket-expiry.json'),
    );
    const elsewhere = await invoke(
      loadFixture('onCloudTrail/evidence/lifecycle-expiry-unrelated-bucket.json'),
    );
    // Assert
    expect(onTrailBucket.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'page' });
    expect(elsewhere.findings).toEqual({ detection: 'cloudtrail-log-expiry', action: 'record' });
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.body).toContain(
      'sample-cloudtrail-bucket-name is the log bucket of trail management-events',
    );
  });
});

describe('onCloudTrail remediations against the emulator (a live stage that turns them on)', () => {
  const ec2 = new EC2Client({});
  const s3 = new S3Client({ forcePathStyle: true });
  const trails = new CloudTrailClient({});

  beforeEach(() => {
    setDryRun(false);
  });

  /** A group with the world-open SSH rule a record says was added, beside rules it must keep. */
  async function openGroup(): Promise<string> {
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `g-${crypto.randomUUID()}`, Description: 'test' }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [
          {
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            IpRanges: [{ CidrIp: '0.0.0.0/0' }, { CidrIp: '10.0.0.0/8' }],
          },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    return GroupId as string;
  }
  const ingressOf = async (groupId: string) => {
    const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    return (res.SecurityGroups?.[0]?.IpPermissions ?? [])
      .flatMap((p) => (p.IpRanges ?? []).map((r) => `${p.IpProtocol} ${p.FromPort} ${r.CidrIp}`))
      .sort();
  };
  const sgRecord = (groupId: string) =>
    cloudTrailRecord('security-group-open-world', { withRequestParameters: { groupId } });

  it('revokes exactly the world-open rule the call added, keeps the others, and says so in the page', async () => {
    // Arrange
    const groupId = await openGroup();
    // Act
    const result = await invoke(sgRecord(groupId));
    // Assert
    expect(await ingressOf(groupId)).toEqual(['tcp 22 10.0.0.0/8', 'tcp 443 0.0.0.0/0']);
    expect(result.outcomes.map((o) => [o.kind, o.status])).toEqual([
      ['ec2.revoke-ingress', 'done'],
      ['sns.page', 'done'],
    ]);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(`DONE ec2.revoke-ingress: revoked tcp 22 from 0.0.0.0/0 on ${groupId}`);
  });

  it('reports a rule already gone as already remediated, in one page, and pages a redelivery of it no more', async () => {
    // Arrange
    const groupId = await openGroup();
    await invoke(sgRecord(groupId));
    const again = anotherRecordOf(sgRecord(groupId));
    // Act
    const result = await invoke(again);
    await invoke(anotherDeliveryOf(again));
    // Assert
    expect(result.outcomes.map((o) => [o.kind, o.status, o.reason])).toEqual([
      ['ec2.revoke-ingress', 'skipped', 'already-remediated'],
      ['sns.page', 'done', undefined],
    ]);
    expect(await ingressOf(groupId)).toEqual(['tcp 22 10.0.0.0/8', 'tcp 443 0.0.0.0/0']);
    expect(await stack.readPages()).toHaveLength(2);
  });

  it('changes nothing on a dry-run stage, and the page says what it would revoke', async () => {
    // Arrange
    setDryRun(true);
    const groupId = await openGroup();
    // Act
    await invoke(sgRecord(groupId));
    // Assert
    expect(await ingressOf(groupId)).toEqual(['tcp 22 0.0.0.0/0', 'tcp 22 10.0.0.0/8', 'tcp 443 0.0.0.0/0']);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `SKIPPED (dry-run) ec2.revoke-ingress: would revoke tcp 22 from 0.0.0.0/0 on ${groupId}`,
    );
  });

  it("turns a bucket's public access block back on, and calls a block already on already remediated", async () => {
    // Arrange
    await s3.send(new CreateBucketCommand({ Bucket: 'example-reports' }));
    const off = {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'example-reports', PublicAccessBlockConfiguration: off }),
    );
    const record = fixture('s3-public-access-block-off');
    // Act
    const first = await invoke(record);
    const repeat = await invoke(anotherRecordOf(record));
    // Assert
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'example-reports' }));
    expect(block.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    expect(first.outcomes[0]).toMatchObject({ kind: 's3.restore-public-access-block', status: 'done' });
    expect(repeat.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-remediated' });
  });

  it('starts logging on the stopped trail, and calls a trail that logs already remediated', async () => {
    // Arrange
    await s3.send(new CreateBucketCommand({ Bucket: 'example-trail-logs' }));
    await trails.send(
      new CreateTrailCommand({ Name: 'management-events', S3BucketName: 'example-trail-logs' }),
    );
    await trails.send(new StartLoggingCommand({ Name: 'management-events' }));
    await trails.send(new StopLoggingCommand({ Name: 'management-events' }));
    const record = fixture('cloudtrail-stop-logging');
    // Act
    const first = await invoke(record);
    const repeat = await invoke(anotherRecordOf(record));
    // Assert
    const status = await trails.send(new GetTrailStatusCommand({ Name: 'management-events' }));
    expect(status.IsLogging).toBe(true);
    expect(first.outcomes[0]).toMatchObject({ kind: 'cloudtrail.start-logging', status: 'done' });
    expect(repeat.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-remediated' });
  });

  /** A snapshot shared with everyone and with account 444455556666 before the recorded call. */
  async function sharedSnapshot(): Promise<string> {
    const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    const { SnapshotId } = await ec2.send(new CreateSnapshotCommand({ VolumeId }));
    await ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        GroupNames: ['all'],
        UserIds: ['444455556666'],
      }),
    );
    return SnapshotId as string;
  }
  const sharedWith = async (snapshotId: string) =>
    (
      (
        await ec2.send(
          new DescribeSnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: 'createVolumePermission',
          }),
        )
      ).CreateVolumePermissions ?? []
    )
      .map((p) => p.Group ?? p.UserId)
      .sort();
  const shareRecord = (snapshotId: string) =>
    cloudTrailRecord('exposure/ebs-snapshot-public', { withRequestParameters: { snapshotId } });

  it('removes `all` from a snapshot made public and keeps the account shared before; a repeat is already remediated', async () => {
    // Arrange
    const snapshotId = await sharedSnapshot();
    // Act
    const first = await invoke(shareRecord(snapshotId));
    const repeat = await invoke(anotherRecordOf(shareRecord(snapshotId)));
    // Assert
    expect(await sharedWith(snapshotId)).toEqual(['444455556666']);
    expect(first.outcomes[0]).toMatchObject({ kind: 'ec2.revoke-share', status: 'done' });
    expect(repeat.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-remediated' });
    const [page] = await stack.readPages();
    expect(page?.body).toContain(`DONE ec2.revoke-share: removed all from snapshot ${snapshotId}`);
  });

  const rds = new RDSClient({});
  /** A manual DB snapshot shared with account 444455556666 before the recorded call added 193672423079. */
  async function sharedDbSnapshot(): Promise<string> {
    const instance = `db-${crypto.randomUUID().slice(0, 8)}`;
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instance,
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        MasterUsername: 'admin1',
        MasterUserPassword: 'not-a-secret-1',
        AllocatedStorage: 20,
      }),
    );
    const snapshot = `snap-${instance}`;
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: snapshot }),
    );
    await rds.send(
      new ModifyDBSnapshotAttributeCommand({
        DBSnapshotIdentifier: snapshot,
        AttributeName: 'restore',
        ValuesToAdd: ['444455556666', '193672423079'],
      }),
    );
    return snapshot;
  }
  const restorableBy = async (snapshot: string) =>
    [
      ...((
        await rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: snapshot }))
      ).DBSnapshotAttributesResult?.DBSnapshotAttributes?.find((a) => a.AttributeName === 'restore')
        ?.AttributeValues ?? []),
    ].sort();
  const dbShareRecord = (snapshot: string) =>
    cloudTrailRecord('exposure/rds-snapshot-shared-to-account', {
      withRequestParameters: { dBSnapshotIdentifier: snapshot },
    });

  it('removes the foreign account a call added to a DB snapshot and keeps the one shared before; a repeat is already remediated', async () => {
    // Arrange
    const snapshot = await sharedDbSnapshot();
    // Act
    const first = await invoke(dbShareRecord(snapshot));
    const repeat = await invoke(anotherRecordOf(dbShareRecord(snapshot)));
    // Assert
    expect(await restorableBy(snapshot)).toEqual(['444455556666']);
    expect(first.outcomes[0]).toMatchObject({ kind: 'rds.revoke-snapshot-share', status: 'done' });
    expect(repeat.outcomes[0]).toMatchObject({ status: 'skipped', reason: 'already-remediated' });
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `DONE rds.revoke-snapshot-share: removed account 193672423079 from DB snapshot ${snapshot}`,
    );
  });

  it('leaves a shared DB snapshot as it is on a dry-run stage, and the page says what it would remove', async () => {
    // Arrange
    setDryRun(true);
    const snapshot = await sharedDbSnapshot();
    // Act
    await invoke(dbShareRecord(snapshot));
    // Assert
    expect(await restorableBy(snapshot)).toEqual(['193672423079', '444455556666']);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `SKIPPED (dry-run) rds.revoke-snapshot-share: would remove account 193672423079 from DB snapshot ${snapshot}`,
    );
  });

  it('leaves a public snapshot as it is on a dry-run stage, and the page says what it would remove', async () => {
    // Arrange
    setDryRun(true);
    const snapshotId = await sharedSnapshot();
    // Act
    await invoke(shareRecord(snapshotId));
    // Assert
    expect(await sharedWith(snapshotId)).toEqual(['444455556666', 'all']);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `SKIPPED (dry-run) ec2.revoke-share: would remove all from snapshot ${snapshotId}`,
    );
  });
});
