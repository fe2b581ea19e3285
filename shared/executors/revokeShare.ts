import type { RevokeEc2ShareIntent } from '#shared/domain/intent.ts';
import { remediationExecutor } from './remediation.ts';

type Ec2Actions = typeof import('#shared/aws/ec2Actions.ts');

/** One grantee as EC2 lists it: the `all` group or an account. */
interface Grantee {
  Group?: string;
  UserId?: string;
}

const nameOf = (g: Grantee) => (g.Group === 'all' ? 'all' : `account ${g.UserId}`);
const what = (intent: RevokeEc2ShareIntent) =>
  `${intent.resource === 'snapshot' ? 'snapshot' : 'AMI'} ${intent.id}`;

/** EC2 says the snapshot or image is not there: nothing is shared any more. */
const GONE = new Set(['InvalidSnapshot.NotFound', 'InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable']);

/**
 * Removes from the snapshot's create-volume permission (or the AMI's launch permission) exactly the
 * `all` group and the accounts the recorded call added and that are still there, in one call; every
 * other grantee stays. Nothing of them left is `already-remediated`.
 */
export const revokeShareExecutor = remediationExecutor<RevokeEc2ShareIntent, Ec2Actions>({
  kind: 'ec2.revoke-share',
  preview: (intent) =>
    `remove ${[...(intent.everyone ? ['all'] : []), ...intent.accounts.map((a) => `account ${a}`)].join(', ')} from ${what(intent)}`,
  aws: () => import('#shared/aws/ec2Actions.ts'),
  async remediate(intent, m) {
    const wanted: Grantee[] = [
      ...(intent.everyone ? [{ Group: 'all' }] : []),
      ...intent.accounts.map((UserId) => ({ UserId })),
    ];
    const current: Grantee[] =
      intent.resource === 'snapshot'
        ? ((
            await m.ec2.send(
              new m.DescribeSnapshotAttributeCommand({
                SnapshotId: intent.id,
                Attribute: 'createVolumePermission',
              }),
            )
          ).CreateVolumePermissions ?? [])
        : ((
            await m.ec2.send(
              new m.DescribeImageAttributeCommand({ ImageId: intent.id, Attribute: 'launchPermission' }),
            )
          ).LaunchPermissions ?? []);
    const present = wanted.filter((w) =>
      current.some((c) => (w.Group ? c.Group === w.Group : c.UserId === w.UserId)),
    );
    if (present.length === 0) {
      return { already: `${what(intent)} no longer grants ${wanted.map(nameOf).join(', ')}` };
    }
    const remove = present.map((g) =>
      g.Group === 'all' ? { Group: 'all' as const } : { UserId: g.UserId as string },
    );
    const accounts = present.flatMap((g) => (g.UserId ? [g.UserId] : []));
    if (intent.resource === 'snapshot') {
      await m.ec2.send(
        new m.ModifySnapshotAttributeCommand({
          SnapshotId: intent.id,
          Attribute: 'createVolumePermission',
          // The flat form (as `aws ec2 modify-snapshot-attribute --operation-type remove` sends it):
          // EC2 takes it as the nested one, and emulators read only this one.
          OperationType: 'remove',
          ...(present.some((g) => g.Group === 'all') ? { GroupNames: ['all'] } : {}),
          ...(accounts.length > 0 ? { UserIds: accounts } : {}),
        }),
      );
    } else {
      await m.ec2.send(
        new m.ModifyImageAttributeCommand({ ImageId: intent.id, LaunchPermission: { Remove: remove } }),
      );
    }
    const gone = wanted.filter((w) => !present.includes(w));
    const already = gone.length > 0 ? `; already gone: ${gone.map(nameOf).join(', ')}` : '';
    return {
      done: `removed ${present.map(nameOf).join(', ')} from ${what(intent)}${already}`,
      refs: { [intent.resource]: intent.id },
    };
  },
  errors: {
    goneErrors: GONE,
    gone: (intent) => `${what(intent)} no longer exists: nothing is shared`,
    failure: (intent) => `could not remove the share from ${what(intent)}`,
  },
});
