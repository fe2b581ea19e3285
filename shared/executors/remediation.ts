import type { Intent } from '#shared/domain/intent.ts';
import { done, failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { MutatingExecutor } from './types.ts';

/** An intent that undoes what a CloudTrail detection found: its detection is the rate guard's rule. */
export type RemediationIntent = Extract<Intent, { detection: string }>;

/** What one remediation came to, in the words the page and the action log show. */
export type Remediated =
  /** Undone: what it did, and the resource it did it on (the outcome's refs). */
  | { done: string; refs: Record<string, string> }
  /** Nothing the recorded call opened is left: `already-remediated`. */
  | { already: string }
  /** An AWS error after part of the work, worded by the remediation (what it did before it). */
  | { failed: unknown; detail: string };

/** How AWS errors become outcomes; without it an error thrown by `remediate` fails the delivery. */
export interface RemediationErrors<I> {
  /** The AWS error names that say the resource no longer exists: `nothing-to-do`, worded by `gone`. */
  goneErrors: ReadonlySet<string>;
  gone(intent: I): string;
  /** Any other error: `failed`, saying what could not be done. */
  failure(intent: I): string;
}

/** What one remediation states: only what differs from the others. */
export interface RemediationSpec<I extends RemediationIntent, Aws> {
  kind: I['kind'];
  /** What it would do, after "would ": the dry-run outcome and the page show it. */
  preview(intent: I): string;
  /** Its SDK client and commands, loaded when it runs (a module of shared/aws). */
  aws(): Promise<Aws>;
  /** Undoes exactly what the recorded call did, no more; reads first, so a retry finds it done. */
  remediate(intent: I, aws: Aws): Promise<Remediated>;
  errors?: RemediationErrors<I>;
}

const errorName = (error: unknown) => (error as { name?: string }).name ?? '';

function outcomeOf(kind: RemediationIntent['kind'], remediated: Remediated): Outcome {
  if ('already' in remediated) return skipped(kind, 'already-remediated', remediated.already);
  if ('failed' in remediated) return failed(kind, remediated.failed, remediated.detail);
  return done(kind, remediated.done, remediated.refs);
}

/**
 * A onCloudTrail remediation's executor: the frame every remediation shares (its metrics, its time
 * budget, one rate-guard slot per CloudTrail record, AWS errors as outcomes) around what it states.
 */
export function remediationExecutor<I extends RemediationIntent, Aws>(
  spec: RemediationSpec<I, Aws>,
): MutatingExecutor<I> {
  return {
    kind: spec.kind,
    // Its AWS actions: the statement its remediation grants (functions/onCloudTrail/detections/remediations.ts).
    permissions: [],
    metrics: { done: 'RemediationsDone', refused: { 'already-remediated': 'RemediationsAlreadyDone' } },
    mutates: true,
    budgetMs: 10_000,
    // The incident is the CloudTrail record: a forwarded or redelivered copy of it holds one slot.
    rateGuard: (intent, ctx) => ({
      rule: intent.detection,
      actionId: `${intent.kind}|${ctx.signal.incidentKey}`,
    }),
    preview: (intent) => spec.preview(intent),
    async execute(intent) {
      // Loaded before the try, as each remediation did: a bundle that cannot load it fails the delivery.
      const aws = await spec.aws();
      const { errors } = spec;
      if (!errors) return outcomeOf(intent.kind, await spec.remediate(intent, aws));
      try {
        return outcomeOf(intent.kind, await spec.remediate(intent, aws));
      } catch (error) {
        if (errors.goneErrors.has(errorName(error))) {
          return skipped(intent.kind, 'nothing-to-do', errors.gone(intent));
        }
        return failed(intent.kind, error, errors.failure(intent));
      }
    },
  };
}
