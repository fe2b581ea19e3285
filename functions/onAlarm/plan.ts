import { instanceScopeProblem } from '#shared/domain/instanceScope.ts';
import type { PageIntent, Plan, PlanNote, RunbookIntent, SkipReason } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import { Severity } from '#shared/domain/severity.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { parseAwsTimestamp } from '#shared/domain/time.ts';
import { tokenFromKey } from '#shared/domain/tokens.ts';
import type { AlarmGathered, TargetFacts } from './gather.ts';
import type { AlarmRule, Runbook } from './settings.ts';
import type { AlarmFacts } from './signal.ts';

export type AlarmIntent = RunbookIntent | PageIntent;

import { findRule, resolveParameters, runbookTarget } from './rules.ts';
import type { AlarmConfig } from './settings.ts';

/** Why the runbook may not act on its target, or undefined when the target is in scope. */
export function scopeProblem(
  runbook: Runbook,
  parameters: Record<string, string[]>,
  target: TargetFacts | undefined,
): string | undefined {
  const ref = runbookTarget(runbook, parameters);
  if (ref.kind === 'unscoped') return undefined;
  if (ref.kind === 'not-an-instance') return ref.problem;
  if (runbook.scope === 'none') return undefined;
  return instanceScopeProblem(
    { instanceId: ref.instanceId, tag: runbook.scope.tag, ignoreManagedBy: runbook.scope.ignoreManagedBy },
    target,
  );
}

/** Why this ALARM is older than the incident's latest OK, or undefined when it is not. */
export function recoveredSince(facts: AlarmFacts, recoveredAt: number | undefined): string | undefined {
  if (recoveredAt === undefined) return undefined;
  const at = parseAwsTimestamp(facts.stateTimestamp);
  if (at !== undefined && at > recoveredAt) return undefined;
  return `the alarm already returned to OK at ${new Date(recoveredAt).toISOString()}, after this ALARM (${facts.stateTimestamp})`;
}

/** Alarm tag `severity`, else the rule's, else the stage default. */
export function resolveSeverity(tags: Record<string, string>, rule: AlarmRule | undefined, cfg: AlarmConfig) {
  const fromTag = Severity.safeParse(tags.severity?.toLowerCase());
  if (fromTag.success) return fromTag.data;
  return rule?.severity ?? cfg.defaultSeverity;
}

/** Pure: which runbook to start and whom to page for one alarm state change. */
export function planAlarm(input: {
  signal: Signal;
  facts: AlarmFacts;
  gathered: AlarmGathered;
  config: AlarmConfig;
}): Plan<AlarmIntent> {
  const { signal, facts, gathered, config: cfg } = input;
  const { tags } = gathered;
  const notes: PlanNote[] = [];

  if (facts.state === 'INSUFFICIENT_DATA') {
    notes.push({
      decision: 'skipped',
      reason: 'not-paged-state',
      detail: 'INSUFFICIENT_DATA is not acted on',
    });
    return { intents: [], notes };
  }
  if (facts.state === 'OK' && facts.contributorId) {
    notes.push({
      decision: 'skipped',
      reason: 'not-paged-state',
      detail: 'one time series is OK; the alarm-level OK event resolves the incident',
    });
    return { intents: [], notes };
  }
  if (facts.state === 'OK') {
    // Whether a page went out is state, not event: the page executor sends the notice only after a page.
    const resolve = pageIntent(signal, {
      notice: 'resolve',
      severity: 'info',
      reason: `${facts.alarmName} returned to OK.`,
    });
    return { intents: [resolve], notes };
  }
  if (facts.mutedBy || facts.actionsSuppressedBy) {
    const by = facts.mutedBy
      ? `mute rule ${facts.mutedBy}`
      : `actions suppressor (${facts.actionsSuppressedBy})`;
    notes.push({
      decision: 'skipped',
      reason: 'muted',
      detail: `alarm actions are silenced by ${by}: no runbook, no page`,
    });
    return { intents: [], notes };
  }

  const rule = findRule(cfg.alarmRules, facts, tags);
  const severity = resolveSeverity(tags, rule, cfg);
  const intents: AlarmIntent[] = [];
  const why: string[] = [
    rule ? `Matched rule ${rule.name}` : 'No rule matches this alarm; paging with the default severity',
  ];
  if (gathered.tagsUnavailable) why.push(`alarm tags could not be read (${gathered.tagsUnavailable})`);

  if (!rule) {
    notes.push({
      decision: 'skipped',
      reason: 'no-matching-rule',
      detail: 'no alarm rule matches: no runbook',
    });
  } else if (rule.runbook) {
    const runbook = rule.runbook;
    const refuse = (reason: SkipReason, problem: string) => {
      notes.push({
        decision: 'skipped',
        reason,
        detail: `runbook ${runbook.document} not started: ${problem}`,
        withheld: 'ssm.start-automation',
      });
      why.push(`runbook ${runbook.document} not started: ${problem}`);
    };
    // Staleness gates every action: a late ALARM must not restart what has already recovered.
    const stale = recoveredSince(facts, gathered.recoveredAt);
    const resolved = resolveParameters(runbook.parameters, facts, tags);
    const outOfScope = resolved.ok ? scopeProblem(runbook, resolved.parameters, gathered.target) : undefined;
    if (stale) refuse('already-recovered', stale);
    else if (!resolved.ok) refuse('invalid-parameter', resolved.problem);
    else if (outOfScope) refuse('out-of-scope', outOfScope);
    else {
      intents.push({
        kind: 'ssm.start-automation',
        document: runbook.document,
        // Without an AutomationAssumeRole a runbook runs with this function's own (narrow) permissions.
        parameters:
          cfg.automationRoleArn && resolved.parameters.AutomationAssumeRole === undefined
            ? { ...resolved.parameters, AutomationAssumeRole: [cfg.automationRoleArn] }
            : resolved.parameters,
        // One execution per alarm transition and rule, however often the event is delivered.
        clientToken: tokenFromKey(
          `${signal.incidentKey}${facts.contributorId ? `#${facts.contributorId}` : ''}|${facts.stateTimestamp}|${rule.name}`,
        ),
        rule: rule.name,
        reason: `rule ${rule.name} maps ${facts.alarmName} to ${runbook.document}`,
        // The page below writes the execution's record, with its link, in the round trip of its sent mark.
        ...(rule.page === false ? {} : { recordedWithPage: true as const }),
      });
    }
  }
  if (rule?.page === false) {
    notes.push({ decision: 'skipped', reason: 'not-paged-state', detail: `rule ${rule.name} does not page` });
  } else {
    intents.push(
      pageIntent(signal, {
        notice: 'incident',
        severity,
        reason: `${why.join('; ')}.`,
        nothingDone: rule?.runbook
          ? 'Nothing: the runbook was not started (see Why); this page is the action.'
          : 'Nothing: no runbook is configured for this signal; this page is the action.',
      }),
    );
  }
  return { intents, notes };
}
