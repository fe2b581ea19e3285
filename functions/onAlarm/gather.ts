import { ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { cloudwatch } from '#shared/aws/cloudwatch.ts';
import { readInstanceTags } from '#shared/aws/instanceTags.ts';
import { describeError } from '#shared/domain/errorText.ts';
import type { TargetFacts } from '#shared/domain/instanceScope.ts';
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

export type { TargetFacts };

export interface AlarmGathered {
  tags: Record<string, string>;
  /** Why tags could not be read, when they could not: the plan says so instead of guessing. */
  tagsUnavailable?: string;
  /** The matched runbook's target instance, when the rule scopes it to one. */
  target?: TargetFacts;
  /** Epoch ms of the incident's latest OK, when a dry run read one: an older ALARM must not act. */
  recoveredAt?: number;
}

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
    ref.kind === 'instance' ? readInstanceTags(ref.instanceId, signal) : undefined,
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
