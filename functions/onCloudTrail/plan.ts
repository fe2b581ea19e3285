import type { RuntimeConfig } from '#shared/config.ts';
import type { PageIntent, Plan, PlanNote } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { CloudTrailGathered } from './gather.ts';
import type { CloudTrailFacts } from './signal.ts';

export type CloudTrailIntent = PageIntent;

/** What one record came to, for the metrics and a manual invoke's result. */
export interface CloudTrailFindings {
  detection?: string;
  action: 'page' | 'record' | 'none';
}

/** Pure: page or record the deciding detection; nothing for a record no detection claims. */
export function planCloudTrail(input: {
  signal: Signal;
  facts: CloudTrailFacts;
  gathered: CloudTrailGathered;
  config: RuntimeConfig;
}): Plan<CloudTrailIntent, CloudTrailFindings> {
  const { signal, facts } = input;
  const notes: PlanNote[] = [];
  const also = facts.alsoMatched.length > 0 ? ` (also matched: ${facts.alsoMatched.join(', ')})` : '';
  const decided = facts.decided;
  if (!decided) {
    notes.push({
      decision: 'skipped',
      reason: 'no-matching-rule',
      detail: `${facts.eventName} ${facts.eventId} matches no detection that is on${also}`,
    });
    return { intents: [], notes, findings: { action: 'none' } };
  }
  const { finding, settings } = decided;
  const named = `detection ${finding.detection}${settings.cis ? ` (CIS ${settings.cis})` : ''}`;
  if (settings.action === 'record') {
    notes.push({
      decision: 'skipped',
      reason: 'record-only',
      detail: `${named} is set to record: ${finding.what}${also}`,
      withheld: 'sns.page',
    });
    return { intents: [], notes, findings: { detection: finding.detection, action: 'record' } };
  }
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: settings.severity,
    reason: `${named} matched: ${finding.what}${also}.`,
    nothingDone: 'Nothing: no remediation is on for this detection; this page is the action.',
  });
  return { intents: [page], notes, findings: { detection: finding.detection, action: 'page' } };
}
