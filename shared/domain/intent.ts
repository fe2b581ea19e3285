import type { Severity } from '#shared/domain/severity.ts';
import type { Signal } from './signal.ts';

/** Start an SSM Automation runbook. Parameters were validated during planning. */
export interface RunbookIntent {
  kind: 'ssm.start-automation';
  document: string;
  parameters: Record<string, string[]>;
  /** Derived from the incident, so a retried or duplicated delivery starts one execution. */
  clientToken: string;
  rule: string;
  reason: string;
}

/** One instance to stop, with the sentence that explains why (it becomes the ops:stop-reason tag). */
export interface InstanceToStop {
  instanceId: string;
  reason: string;
}

/** Stop idle EC2 instances (batched) and tag them ops:stopped-by/-at/-reason. */
export interface StopInstancesIntent {
  kind: 'ec2.stop-instances';
  instances: InstanceToStop[];
  reason: string;
  /** The rolling-hour limit the stops are claimed against (the stage's idleStop.maxStopsPerHour if unset). */
  maxStopsPerHour?: number;
}

export type PageNotice = 'incident' | 'resolve';

/** Page people through the SNS topic. Always live, also in dry-run. */
export interface PageIntent {
  kind: 'sns.page';
  notice: PageNotice;
  severity: Severity;
  signal: Signal;
  reason: string;
  /** Extra lines for the body, e.g. the verdict table of an idle scan. */
  details?: string[];
}

/**
 * Every action the system can take. Adding a kind without an executor does not compile. No intent
 * carries a dry-run flag: whether it runs is the runtime's decision (shared/runtime/pipeline.ts).
 */
export type Intent = RunbookIntent | PageIntent | StopInstancesIntent;
export type IntentKind = Intent['kind'];

/** A decision not to act, kept so the action log and the page can say why. */
export interface PlanNote {
  decision: 'skipped';
  reason: SkipReason;
  detail: string;
}

export interface Plan<I extends Intent = Intent> {
  intents: I[];
  notes: PlanNote[];
  /** What a manual invoke returns beside the outcomes (e.g. every idle verdict). */
  report?: Record<string, unknown>;
  /** A run that chose dry-run itself (a manual payload asked for it) says so; it cannot turn dry-run off. */
  dryRun?: boolean;
}

/** The closed set of reasons an action was not taken. */
export type SkipReason =
  | 'dry-run'
  | 'suppressed'
  | 'no-open-incident'
  | 'muted'
  | 'no-matching-rule'
  | 'invalid-parameter'
  | 'not-paged-state'
  | 'capped'
  | 'nothing-to-do'
  | 'already-recovered'
  | 'superseded'
  | 'out-of-scope'
  | 'limit-reached';
