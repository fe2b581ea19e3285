import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { dynamodb } from '#shared/aws/dynamodb.ts';
import { ec2 } from '#shared/aws/ec2.ts';

/**
 * Whether the resource a failed backup job was about still exists, read with the resource's own
 * describe call. Not backup:DescribeProtectedResource or ListRecoveryPointsByResource: those say what
 * AWS Backup has recorded of a resource (it stays "protected" after the resource is deleted), not
 * whether it is there to back up. Only the types below are checked; any other type is not retried,
 * and the page says why: a retry of a resource we cannot see could only fail again.
 */

export type Existence = { exists: boolean; why: string } | { unknown: string };

interface ResourceCheck {
  /** The IAM action the check needs (deployment.ts grants exactly these). */
  permission: string;
  check(arn: string, id: string): Promise<{ exists: boolean; why: string }>;
}

const errorName = (error: unknown) => (error as { name?: string } | undefined)?.name ?? '';

export const RESOURCE_CHECKS: Record<string, ResourceCheck> = {
  EBS: {
    permission: 'ec2:DescribeVolumes',
    async check(_arn, id) {
      try {
        const res = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }));
        const state = res.Volumes?.[0]?.State;
        if (!state || state === 'deleting' || state === 'deleted') {
          return { exists: false, why: `volume ${id} is ${state ?? 'gone'}` };
        }
        return { exists: true, why: `volume ${id} is ${state}` };
      } catch (error) {
        if (errorName(error) === 'InvalidVolume.NotFound') {
          return { exists: false, why: `volume ${id} no longer exists` };
        }
        throw error;
      }
    },
  },
  EC2: {
    permission: 'ec2:DescribeInstances',
    async check(_arn, id) {
      try {
        const res = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
        const state = res.Reservations?.[0]?.Instances?.[0]?.State?.Name;
        if (!state || state === 'terminated' || state === 'shutting-down') {
          return { exists: false, why: `instance ${id} is ${state ?? 'gone'}` };
        }
        return { exists: true, why: `instance ${id} is ${state}` };
      } catch (error) {
        if (errorName(error) === 'InvalidInstanceID.NotFound') {
          return { exists: false, why: `instance ${id} no longer exists` };
        }
        throw error;
      }
    },
  },
  DynamoDB: {
    permission: 'dynamodb:DescribeTable',
    async check(arn, id) {
      try {
        const res = await dynamodb.send(new DescribeTableCommand({ TableName: arn }));
        const status = res.Table?.TableStatus;
        if (!status || status === 'DELETING')
          return { exists: false, why: `table ${id} is ${status ?? 'gone'}` };
        return { exists: true, why: `table ${id} is ${status}` };
      } catch (error) {
        if (errorName(error) === 'ResourceNotFoundException') {
          return { exists: false, why: `table ${id} no longer exists` };
        }
        throw error;
      }
    },
  },
};

export const RESOURCE_CHECK_PERMISSIONS = [
  ...new Set(Object.values(RESOURCE_CHECKS).map((c) => c.permission)),
] as const;

const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/**
 * Whether the resource exists, or why that cannot be known: an unchecked type, or a resource in
 * another account or region (this function's clients read only its own).
 */
export async function resourceExistence(
  resourceType: string,
  arn: string,
  site: { account: string; region: string },
): Promise<Existence> {
  const check = RESOURCE_CHECKS[resourceType];
  if (!check) {
    return {
      unknown: `resource type ${resourceType} is not one this function can check still exists (${Object.keys(RESOURCE_CHECKS).join(', ')})`,
    };
  }
  const [, , , region, account, ...rest] = arn.split(':');
  if (account !== site.account || region !== site.region) {
    return { unknown: `${arn} is not in this function's account ${site.account} and region ${site.region}` };
  }
  const id = rest.join(':').split('/').at(-1) ?? '';
  try {
    return await check.check(arn, id);
  } catch (error) {
    return { unknown: `could not check that ${arn} still exists (${describeError(error)})` };
  }
}
