import type { ApprovalNeed } from '#shared/approval/recheck.ts';
import type { InstanceToStop, Intent, StopInstancesIntent } from '#shared/domain/intent.ts';
import { IDLE_STOP_RULE } from '#shared/executors/stopInstances.ts';
import { exclusionReason, type Scope, screenInstance } from './exclusions.ts';
import type { IdleStopsGathered } from './gather.ts';
import type { IdleStopSettings } from './stageSettings.ts';

/**
 * Approvals for idle stops (`idleStop.approval: 'required'`, docs/APPROVALS.md): a run's stop intent is
 * its whole stop list, so the runtime's approval gate records one pending action per scan run (and per
 * cost anomaly page). approveAction reads each listed instance again and keeps only those the stopper's
 * own scope rules (screenInstance) would still stop; the verdict of idleness is the scan's.
 */

/** What approveAction checks again for a stop list: each instance, under the scope the run judged by. */
export interface IdleStopRecheck {
  scope: Scope;
}

/** Whether a run's stops wait for a person: a live run of a stage that asks for it. */
export const asksApproval = (idleStop: Pick<IdleStopSettings, 'approval'>, dryRun: boolean): boolean =>
  idleStop.approval === 'required' && !dryRun;

/**
 * The approval need of a stop intent, or undefined when the stage does not ask for one. The idle
 * stopper's settings travel with it (its executor reads `idleStop`); the hourly limit is the intent's.
 */
export function idleStopNeed(
  intent: Intent,
  idleStop: IdleStopSettings,
  scope: Scope,
): ApprovalNeed | undefined {
  if (intent.kind !== 'ec2.stop-instances' || idleStop.approval !== 'required') return undefined;
  return { rule: IDLE_STOP_RULE, settings: { idleStop }, recheck: { idleStop: { scope } } };
}

/**
 * A decision that waits for approval spends the hour's budget when it is approved, not now: it is
 * judged as if none were spent (still at most `maxStopsPerHour`, all an hour can ever take), and the
 * stop executor claims what the budget allows at approval time.
 */
export function budgetAtApproval<G extends Pick<IdleStopsGathered, 'budget'>>(gathered: G): G {
  const { limit } = gathered.budget;
  return { ...gathered, budget: { limit, usedInLastHour: 0, remaining: limit } };
}

/** The listed instances as read again at approval time, or why they could not be. */
export type StopTargets = { instances: import('./exclusions.ts').InstanceFacts[] } | { unavailable: string };

/** The stop list as it stands now: the instances still to stop, and each other one with why not. */
export interface ScreenedStops {
  kept: InstanceToStop[];
  skipped: { instanceId: string; why: string }[];
}

/**
 * Pure: each listed instance judged again by the stopper's own scope rules (running, opted in, not
 * opted out, not managed by another service, not spot or instance-store): those that no longer qualify
 * are skipped, with why.
 */
export function screenStopList(
  intent: StopInstancesIntent,
  targets: Extract<StopTargets, { instances: unknown }>,
  recheck: IdleStopRecheck,
): ScreenedStops {
  const now = new Map(targets.instances.map((i) => [i.instanceId, i]));
  const kept: InstanceToStop[] = [];
  const skipped: ScreenedStops['skipped'] = [];
  for (const listed of intent.instances) {
    const facts = now.get(listed.instanceId);
    if (!facts) {
      skipped.push({
        instanceId: listed.instanceId,
        why: 'No longer exists (not found by DescribeInstances).',
      });
      continue;
    }
    const exclusion = screenInstance(facts, recheck.scope);
    if (exclusion)
      skipped.push({ instanceId: listed.instanceId, why: exclusionReason(facts, exclusion, recheck.scope) });
    else kept.push(listed);
  }
  return { kept, skipped };
}

/** approveAction's judgement of an approved stop list now: why none may be stopped, or what may. */
export type StopListNow =
  | { refusal: string }
  | { intent: StopInstancesIntent; skipped: ScreenedStops['skipped'] };

const skippedList = (skipped: ScreenedStops['skipped']) =>
  skipped.map((s) => `${s.instanceId}: ${s.why}`).join('; ');

/**
 * Pure: the recorded stop intent narrowed to the instances that still qualify, or a refusal when the
 * list could not be read again or none qualifies. Idleness is not judged again: the verdict is the
 * scan's (docs/APPROVALS.md says why).
 */
export function stopListNow(
  recordedIntent: string,
  targets: StopTargets | undefined,
  recheck: IdleStopRecheck,
): StopListNow {
  if (targets === undefined) return { refusal: 'the stop list was not read again' };
  if ('unavailable' in targets) {
    return { refusal: `the stop list could not be read again (${targets.unavailable})` };
  }
  const intent = JSON.parse(recordedIntent) as StopInstancesIntent;
  const { kept, skipped } = screenStopList(intent, targets, recheck);
  if (kept.length === 0) return { refusal: `no listed instance qualifies now: ${skippedList(skipped)}` };
  return { intent: { ...intent, instances: kept }, skipped };
}

/** The sentence for the instances an approval skipped, for the update page. */
export const skippedSentence = (skipped: ScreenedStops['skipped']): string =>
  `Not stopped, no longer qualifying now: ${skippedList(skipped)}.`;
