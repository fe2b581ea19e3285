import type { Severity } from '#shared/config.ts';
import type { Signal } from './signal.ts';

/** Start an SSM Automation runbook. Parameters were validated during planning. */
export interface RunbookIntent {
  kind: 'ssm.start-automation';
  document: string;
  parameters: Record<string, string[]>;
  /** Derived from the incident, so a retried or duplicated delivery starts one execution. */
  clientToken: string;
  dryRun: boolean;
  rule: string;
  reason: string;
}

export type PageNotice = 'incident' | 'resolve';

/** Page people through the SNS topic. Always live, also in dry-run. */
export interface PageIntent {
  kind: 'sns.page';
  notice: PageNotice;
  severity: Severity;
  signal: Signal;
  reason: string;
}

/** Every action the system can take. Adding a kind without an executor does not compile. */
export type Intent = RunbookIntent | PageIntent;
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
}

/** The closed set of reasons an action was not taken. */
export type SkipReason =
  | 'dry-run'
  | 'suppressed'
  | 'no-open-incident'
  | 'muted'
  | 'no-matching-rule'
  | 'invalid-parameter'
  | 'not-paged-state';
