import { ListTagsForResourceCommand } from '@aws-sdk/client-cloudwatch';
import { cloudwatch } from '#shared/aws/cloudwatch.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { logger } from '#shared/runtime/powertools.ts';
import type { AlarmEvent } from './schema.ts';
import { type AlarmFacts, alarmFacts } from './signal.ts';

export interface AlarmGathered {
  facts: AlarmFacts;
  tags: Record<string, string>;
  /** Why tags could not be read, when they could not: the plan says so instead of guessing. */
  tagsUnavailable?: string;
}

/** Read-only: the alarm's tags, unless the event carries them (tag propagation) or the state needs none. */
export async function gatherAlarm(_signal: Signal, event: AlarmEvent): Promise<AlarmGathered> {
  const facts = alarmFacts(event);
  if (facts.eventTags) return { facts, tags: facts.eventTags };
  // OK only resolves what was paged; INSUFFICIENT_DATA is not acted on: neither needs tags.
  if (facts.state !== 'ALARM') return { facts, tags: {} };
  try {
    const res = await cloudwatch.send(new ListTagsForResourceCommand({ ResourceARN: facts.alarmArn }));
    const tags = Object.fromEntries((res.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    return { facts, tags };
  } catch (error) {
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger.warn('alarm tags unavailable', { alarmArn: facts.alarmArn, why });
    return { facts, tags: {}, tagsUnavailable: why };
  }
}
