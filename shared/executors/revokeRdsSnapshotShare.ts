import type { RevokeRdsSnapshotShareIntent } from '#shared/domain/intent.ts';
import { remediationExecutor } from './remediation.ts';

type RdsModule = typeof import('#shared/aws/rds.ts');

/** The attribute that lists who may copy or restore a manual snapshot: account ids, or `all`. */
const RESTORE = 'restore';

const nameOf = (value: string) => (value === 'all' ? 'all' : `account ${value}`);
const what = (intent: RevokeRdsSnapshotShareIntent) =>
  `${intent.resource === 'db-snapshot' ? 'DB snapshot' : 'DB cluster snapshot'} ${intent.id}`;
const wantedOf = (intent: RevokeRdsSnapshotShareIntent) => [
  ...(intent.everyone ? ['all'] : []),
  ...intent.accounts,
];

/** RDS says the snapshot is not there: nothing is shared any more. */
const GONE = new Set(['DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault']);

/**
 * Removes from a manual DB (or DB cluster) snapshot's `restore` attribute exactly the `all` value and
 * the accounts the recorded call added that are still there, in one ModifyDB(Cluster)SnapshotAttribute
 * call with ValuesToRemove; every other account stays. Nothing of them left is `already-remediated`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBSnapshotAttribute.html).
 */
export const revokeRdsSnapshotShareExecutor = remediationExecutor<RevokeRdsSnapshotShareIntent, RdsModule>({
  kind: 'rds.revoke-snapshot-share',
  preview: (intent) => `remove ${wantedOf(intent).map(nameOf).join(', ')} from ${what(intent)}`,
  aws: () => import('#shared/aws/rds.ts'),
  async remediate(intent, m) {
    const wanted = wantedOf(intent);
    const attributes =
      intent.resource === 'db-snapshot'
        ? (await m.rds.send(new m.DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: intent.id })))
            .DBSnapshotAttributesResult?.DBSnapshotAttributes
        : (
            await m.rds.send(
              new m.DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: intent.id }),
            )
          ).DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes;
    const current = new Set(attributes?.find((a) => a.AttributeName === RESTORE)?.AttributeValues ?? []);
    const present = wanted.filter((v) => current.has(v));
    if (present.length === 0) {
      return { already: `${what(intent)} no longer grants ${wanted.map(nameOf).join(', ')}` };
    }
    if (intent.resource === 'db-snapshot') {
      await m.rds.send(
        new m.ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: intent.id,
          AttributeName: RESTORE,
          ValuesToRemove: present,
        }),
      );
    } else {
      await m.rds.send(
        new m.ModifyDBClusterSnapshotAttributeCommand({
          DBClusterSnapshotIdentifier: intent.id,
          AttributeName: RESTORE,
          ValuesToRemove: present,
        }),
      );
    }
    const gone = wanted.filter((v) => !present.includes(v));
    const already = gone.length > 0 ? `; already gone: ${gone.map(nameOf).join(', ')}` : '';
    return {
      done: `removed ${present.map(nameOf).join(', ')} from ${what(intent)}${already}`,
      refs: { [intent.resource === 'db-snapshot' ? 'dbSnapshot' : 'dbClusterSnapshot']: intent.id },
    };
  },
  errors: {
    goneErrors: GONE,
    gone: (intent) => `${what(intent)} no longer exists: nothing is shared`,
    failure: (intent) => `could not remove the share from ${what(intent)}`,
  },
});
