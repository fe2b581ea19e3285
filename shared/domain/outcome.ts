import type { IntentKind, SkipReason } from './intent.ts';

export type OutcomeStatus = 'done' | 'skipped' | 'failed';

/** What an executor did with one intent: the only thing the report step trusts. */
export interface Outcome {
  kind: IntentKind;
  status: OutcomeStatus;
  /** One sentence a person reads in the page and the action log. */
  detail: string;
  reason?: SkipReason;
  /** Ids AWS returned (execution id, message id), for links and audit. */
  refs?: Record<string, string>;
  /** Per resource, the evidence behind the action (an instance's own figures): one action-log entry each. */
  evidence?: Record<string, string>;
  error?: { name: string; message: string };
}

export const done = (kind: IntentKind, detail: string, refs?: Record<string, string>): Outcome => ({
  kind,
  status: 'done',
  detail,
  ...(refs ? { refs } : {}),
});

export const skipped = (kind: IntentKind, reason: SkipReason, detail: string): Outcome => ({
  kind,
  status: 'skipped',
  reason,
  detail,
});

export const failed = (kind: IntentKind, error: unknown, detail: string): Outcome => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind, status: 'failed', detail, error: { name: e.name, message: e.message } };
};
