import { EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { registry } from '#functions/index.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { revokeIngressExecutor } from '#shared/executors/revokeIngress.ts';
import { RUNTIME_PERMISSIONS } from '#shared/runtime/permissions.ts';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { makeConfig } from '../support/config.ts';
import { type CloudTrailRecord, cloudTrailRecord } from '../support/events/index.ts';

// The handler tests' mocks (reset before each test), though these tests plan and execute directly.
const { aws } = await cloudTrailHandlerHarness();
// Handler layer: the paths moto does not take (EC2's newer answer for a rule already gone).
const ec2 = aws.of(EC2Client);
const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const ALL_ON = {
  'security-group-open-to-world': { remediate: true },
  's3-bucket-public': { remediate: true },
  'cloudtrail-tampering': { remediate: true },
  'data-shared-publicly': { remediate: true },
} as const;
function planFor(raw: CloudTrailRecord, site = SITE) {
  const config = makeConfig({ dryRun: false, cloudTrail: { detections: ALL_ON } });
  const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site });
  return planCloudTrail({ ...observation, gathered: {}, config });
}

describe('onCloudTrail remediation: what reaches AWS', () => {
  it('reports a rule EC2 lists as unknown as already remediated, not as done', async () => {
    // Arrange
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({
      Return: true,
      UnknownIpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    });
    const [intent] = planFor(cloudTrailRecord('security-group-open-world')).intents;
    if (intent?.kind !== 'ec2.revoke-ingress') throw new Error('no revoke planned');
    // Act
    const outcome = await revokeIngressExecutor.execute(intent, {} as never);
    // Assert
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'already-remediated' });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-0123456789abcdef0',
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
  });

  it('pages but does not touch a record from another region (a forwarded one)', () => {
    // Arrange
    const raw = cloudTrailRecord('security-group-open-world', {
      region: 'eu-west-1',
      awsRegion: 'eu-west-1',
    });
    // Act
    const plan = planFor(raw);
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(plan.notes).toEqual([
      expect.objectContaining({ reason: 'out-of-scope', withheld: 'ec2.revoke-ingress' }),
    ]);
  });

  it('remediates nothing for a detection that has no exact undo (DeleteTrail), and says so', () => {
    // Act
    const plan = planFor(cloudTrailRecord('cloudtrail-delete-trail'));
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(plan.notes[0]?.detail).toContain('has no exact undo (DeleteTrail');
  });

  it('leaves a forwarded global record to the home region on a us-east-1 stack that forwards it', () => {
    // Arrange
    const config = makeConfig({}, { globalEventsHomeRegion: 'eu-west-1' });
    const signIn = CloudTrailEvent.parse(cloudTrailRecord('root-console-sign-in'));
    const regional = CloudTrailEvent.parse(cloudTrailRecord('security-group-open-world'));
    // Act
    const plans = [signIn, regional].map((event) =>
      planCloudTrail({ ...observeCloudTrail(event, { config, site: SITE }), gathered: {}, config }),
    );
    // Assert
    expect(plans.map((p) => p.intents.map((i) => i.kind))).toEqual([[], ['ec2.revoke-ingress', 'sns.page']]);
    expect(plans[0]?.notes[0]?.detail).toContain('forwarded to eu-west-1');
  });

  it('grants exactly the IAM the enabled remediations need, and none when they are off', async () => {
    // Arrange
    const entry = registry.find((e) => e.name === 'onCloudTrail');
    const on = parseStageConfig('x', { dryRun: false, cloudTrail: { detections: ALL_ON } });
    const off = parseStageConfig('prod', stages.prod);
    const own = (stage: typeof on) =>
      (entry?.deployment.statements(stage) ?? [])
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .sort();
    const declared = async (stage: typeof on) =>
      ((await entry?.permissions(stage)) ?? []).filter(
        (a) => !(RUNTIME_PERMISSIONS as readonly string[]).includes(a),
      );
    // Act
    const granted = { on: own(on), off: own(off) };
    // Assert
    // DescribeTrails and ListBuckets are gather's reads (cloudtrail-log-expiry, rds-exported-to-s3),
    // granted on every stage; the rest are the
    // remediations', the share one for EBS, AMIs and RDS snapshots alike.
    expect(granted.on).toEqual([
      'cloudtrail:DescribeTrails',
      'cloudtrail:GetTrailStatus',
      'cloudtrail:StartLogging',
      'ec2:DescribeImageAttribute',
      'ec2:DescribeSnapshotAttribute',
      'ec2:ModifyImageAttribute',
      'ec2:ModifySnapshotAttribute',
      'ec2:RevokeSecurityGroupIngress',
      'rds:DescribeDBClusterSnapshotAttributes',
      'rds:DescribeDBSnapshotAttributes',
      'rds:ModifyDBClusterSnapshotAttribute',
      'rds:ModifyDBSnapshotAttribute',
      's3:GetBucketPublicAccessBlock',
      's3:ListAllMyBuckets',
      's3:PutBucketPublicAccessBlock',
    ]);
    expect(granted.on).toEqual(
      (await declared(on)).filter((a) => !a.startsWith('sns:') && !a.startsWith('kms:')),
    );
    expect(granted.off).toEqual(['cloudtrail:DescribeTrails', 's3:ListAllMyBuckets']);
  });
});
