import { ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { cloudwatch } from '#shared/aws/cloudwatch.ts';
import { tagging } from '#shared/aws/tagging.ts';
import { partitionOf } from '#shared/domain/partition.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { logger } from '#shared/runtime/powertools.ts';
import { lastRecoveryAt } from '#shared/state/recovery.ts';
import { findRule, resolveParameters, runbookTarget } from './rules.ts';
import type { AlarmConfig } from './settings.ts';
import type { AlarmFacts } from './signal.ts';

/** The reads gather makes: the alarm's tags, the runbook target, the incident's last OK. */
export const gatherPermissions = [
  'cloudwatch:ListTagsForResource',
  'tag:GetResources',
  'dynamodb:GetItem',
] as const;

/** The instance a runbook would act on: its tags, or why they could not be read. */
export type TargetFacts = { instanceId: string } & (
  | { tags: Record<string, string> }
  | { unavailable: string }
);

export interface AlarmGathered {
  tags: Record<string, string>;
  /** Why tags could not be read, when they could not: the plan says so instead of guessing. */
  tagsUnavailable?: string;
  /** The matched runbook's target instance, when the rule scopes it to one. */
  target?: TargetFacts;
  /** Epoch ms of the incident's latest OK, when a dry run read one: an older ALARM must not act. */
  recoveredAt?: number;
}

const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

async function alarmTags(facts: AlarmFacts): Promise<Pick<AlarmGathered, 'tags' | 'tagsUnavailable'>> {
  if (facts.eventTags) return { tags: facts.eventTags };
  try {
    const res = await cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: facts.alarmArn }));
    return { tags: Object.fromEntries((res.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])) };
  } catch (error) {
    const why = describeError(error);
    logger.warn('alarm tags unavailable', { alarmArn: facts.alarmArn, why });
    return { tags: {}, tagsUnavailable: why };
  }
}

/**
 * One GetResources call for the instance's ARN in the alarm's account and region
 * (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html); its
 * answer includes aws: tags such as aws:autoscaling:groupName. Any failure is reported, never guessed
 * around.
 */
async function readTargetTags(instanceId: string, signal: Signal): Promise<TargetFacts> {
  const arn = `arn:${partitionOf(signal.region)}:ec2:${signal.region}:${signal.account}:instance/${instanceId}`;
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

/**
 * Read-only: the alarm's tags (unless the event carries them), and for an ALARM that would start a
 * runbook, the target instance's tags and, on a dry run, the incident's latest OK.
 */
export async function gatherAlarm(input: {
  signal: Signal;
  facts: AlarmFacts;
  config: AlarmConfig;
}): Promise<AlarmGathered> {
  const { signal, facts, config: cfg } = input;
  // OK only resolves what was paged; INSUFFICIENT_DATA is not acted on: neither needs tags.
  if (facts.state !== 'ALARM') return { tags: facts.eventTags ?? {} };
  const gathered: AlarmGathered = await alarmTags(facts);
  if (facts.mutedBy || facts.actionsSuppressedBy) return gathered;

  // The plan's rule choice, made early for cost: only an ALARM that would start a runbook reads its
  // target and the incident's last OK. The plan decides again from the same data.
  const runbook = findRule(cfg.alarmRules, facts, gathered.tags)?.runbook;
  if (!runbook) return gathered;
  const resolved = resolveParameters(runbook.parameters, facts, gathered.tags);
  if (!resolved.ok) return gathered;
  const ref = runbookTarget(runbook, resolved.parameters);
  const [target, recoveredAt] = await Promise.all([
    ref.kind === 'instance' ? readTargetTags(ref.instanceId, signal) : undefined,
    // A live start's claim re-checks the last OK in its own transaction, which says when it refuses:
    // only a dry run, which claims nothing, reads it here, so its preview refuses what live would.
    cfg.dryRun ? lastRecoveryAt(signal.incidentKey) : undefined,
  ]);
  return {
    ...gathered,
    ...(target ? { target } : {}),
    ...(recoveredAt !== undefined ? { recoveredAt } : {}),
  };
}
