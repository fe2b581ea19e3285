import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { describeError } from '#shared/domain/errorText.ts';
import type { TargetFacts } from '#shared/domain/instanceScope.ts';
import { partitionOf } from '#shared/domain/partition.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { tagging } from './tagging.ts';

/**
 * One GetResources call for the instance's ARN in the given account and region
 * (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html); its
 * answer includes aws: tags such as aws:autoscaling:groupName. Any failure is reported, never guessed
 * around.
 */
export async function readInstanceTags(
  instanceId: string,
  where: { account: string; region: string },
): Promise<TargetFacts> {
  const arn = `arn:${partitionOf(where.region)}:ec2:${where.region}:${where.account}:instance/${instanceId}`;
  try {
    const res = await tagging.send(new GetResourcesCommand({ ResourceARNList: [arn] }));
    // Only the mapping of this ARN: nothing else in an answer may stand in for the target's tags.
    const mapping = (res.ResourceTagMappingList ?? []).find((m) => m.ResourceARN === arn);
    // GetResources leaves out a resource that has no tags, as it does one that does not exist.
    if (!mapping) {
      return {
        instanceId,
        unavailable: 'it has no tags, or no such instance is in this account and region',
      };
    }
    return {
      instanceId,
      tags: Object.fromEntries((mapping.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    };
  } catch (error) {
    const why = describeError(error);
    logger.warn('runbook target unavailable', { instanceId, why });
    return { instanceId, unavailable: why };
  }
}
