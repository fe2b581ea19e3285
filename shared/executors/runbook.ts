import { createHash } from 'node:crypto';
import { StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { ssm } from '#shared/aws/ssm.ts';
import { runbookCooldownMinutes, type SharedConfig } from '#shared/config.ts';
import type { RunbookIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { parseAwsTimestamp } from '#shared/domain/time.ts';
import { logger } from '#shared/runtime/powertools.ts';
import {
  type AutomationExecutionRecord,
  recordAutomationExecution,
} from '#shared/state/automationExecutions.ts';
import { rateSlotUpdate } from '#shared/state/rateGuard.ts';
import { claimRunbookStart, type EarlierStart, recordRunbookExecution } from '#shared/state/runbookStarts.ts';
import type { MutatingExecutor } from './types.ts';

/** Tag values allow few characters and an incident key is an ARN of any alarm name: tag a digest. */
export const incidentTagValue = (incidentKey: string): string =>
  createHash('sha256').update(incidentKey).digest('hex').slice(0, 32);

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

const describeStart = (intent: RunbookIntent): string =>
  `${intent.document} ${Object.entries(intent.parameters)
    .map(([k, v]) => `${k}=${v.join(',')}`)
    .join(' ')}`;

function describeEarlier(earlier: EarlierStart[]): string {
  if (earlier.length === 0) return 'no earlier start recorded';
  return earlier
    .map(
      (e) =>
        `${e.executionId ? `execution ${e.executionId}` : 'a start'} at ${iso(e.at)} (delivery ${e.correlationId})`,
    )
    .join(', ');
}

/**
 * Whether SSM may have started the execution although the call failed: no answer at all (a timeout, a
 * dropped connection: the request may have arrived) or a server error. A 4xx answer means it refused.
 */
function answerMayBeLost(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === undefined || status >= 500;
}

/** What onRunbookResult needs to know about an execution this system started (the signal's severity). */
export function executionRecordOf(
  intent: Pick<RunbookIntent, 'document' | 'rule'>,
  signal: Signal,
  executionId: string,
): AutomationExecutionRecord {
  const [resource] = signal.resources;
  return {
    executionId,
    document: intent.document,
    rule: intent.rule,
    incidentKey: signal.incidentKey,
    correlationId: signal.correlationId,
    account: signal.account,
    region: signal.region,
    signal: {
      kind: signal.kind,
      title: signal.title,
      summary: signal.summary,
      occurredAt: signal.occurredAt,
      ...(resource ? { resource } : {}),
      links: signal.links,
    },
    severity: signal.severity,
    startedAt: Math.floor(Date.now() / 1000),
  };
}

/**
 * Starts an SSM Automation runbook, at most `runbooks.maxStartsPerIncident` times per incident and rule
 * within the cooldown. The ClientToken and the tags derive from the alarm transition, never from the
 * delivery, so a retried or duplicated delivery gets the original execution back from SSM instead of
 * starting a second one (or being refused for a mismatched request).
 */
/**
 * What a runbook start reads of its function's configuration besides the shared keys: the start limit
 * (the `runbooks` settings of the function that starts runbooks, onAlarm's).
 */
export type RunbookStartConfig = SharedConfig & {
  runbooks: { maxStartsPerIncident: number; cooldownMinutes?: number | undefined };
};

export const runbookExecutor: MutatingExecutor<RunbookIntent, RunbookStartConfig> = {
  kind: 'ssm.start-automation',
  metrics: {
    done: 'RunbooksStarted',
    // Out of scope or recovered (the plan withholds it) or over the per-incident limit (refused here).
    refused: {
      'out-of-scope': 'RunbooksRefused',
      'already-recovered': 'RunbooksRefused',
      'limit-reached': 'RunbooksRefused',
    },
  },
  // Its records; starting, tagging and passing the automation role are onAlarm's grant (its deployment).
  permissions: [
    'dynamodb:UpdateItem',
    'dynamodb:GetItem',
    // The execution record onRunbookResult reads (a shared key, see automationExecutions.ts).
    'dynamodb:PutItem',
    // The start's claim checks the incident record in the same transaction.
    'dynamodb:ConditionCheckItem',
  ],
  mutates: true,
  // SSM throttles starts at about one per second; the client retries up to 6 times with backoff.
  budgetMs: 10_000,
  // One slot per incident and rule, the key of its start limit: the rate guard bounds how many incidents
  // a rule acts on (retries, duplicates and a Metrics Insights alarm's contributors share the slot), and
  // runbooks.maxStartsPerIncident bounds the starts within one.
  rateGuard: (intent, ctx) => ({ rule: intent.rule, actionId: `${ctx.signal.incidentKey}|${intent.rule}` }),
  // The slot is claimed in the start's own transaction (claimRunbookStart): one round trip, and a start
  // refused by its limit or a recovery takes no slot.
  joinsRateGuard: true,
  // A dry run claims no start slot, so its preview cannot say whether the per-incident limit would refuse.
  preview: (intent) => `start ${describeStart(intent)} (rule ${intent.rule})`,
  async execute(intent, ctx) {
    const target = describeStart(intent);
    const { incidentKey, correlationId } = ctx.signal;
    const maxStarts = ctx.config.runbooks.maxStartsPerIncident;
    const cooldownMinutes = runbookCooldownMinutes(ctx.config);
    try {
      const claim = await claimRunbookStart({
        incidentKey,
        rule: intent.rule,
        clientToken: intent.clientToken,
        correlationId,
        maxStarts,
        cooldownSeconds: cooldownMinutes * 60,
        // Unreadable times were refused by the schema; now is the conservative fallback.
        alarmAtMs: parseAwsTimestamp(ctx.signal.occurredAt) ?? Date.now(),
        ...(ctx.rateSlot ? { rateSlot: rateSlotUpdate(ctx.rateSlot, ctx.rateSlot.actionId) } : {}),
      });
      if (!claim.allowed && 'rateLimited' in claim) {
        // The runtime words the refusal and pages the trip once (shared/runtime/pipeline.ts).
        return skipped(intent.kind, 'rate-limited', `did not start ${target}: the rate guard refused it`);
      }
      if (!claim.allowed && 'recoveredAt' in claim) {
        // The OK was handled after this delivery's gather: staleness gates the start too, atomically.
        return skipped(
          intent.kind,
          'already-recovered',
          `did not start ${target}: the alarm returned to OK at ${new Date(claim.recoveredAt).toISOString()}, after this ALARM`,
        );
      }
      if (!claim.allowed) {
        return skipped(
          intent.kind,
          'limit-reached',
          `did not start ${target}: rule ${intent.rule} allows ${maxStarts} start(s) per incident ` +
            `every ${cooldownMinutes} min, already used by ${describeEarlier(claim.earlier)}; ` +
            `the limit holds until ${iso(claim.windowEndsAt)}`,
        );
      }
    } catch (error) {
      return failed(intent.kind, error, `could not check the start limit for ${target}`);
    }
    let started: string;
    try {
      const res = await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: intent.document,
          Parameters: intent.parameters,
          ClientToken: intent.clientToken,
          // Tags show people which executions this system started (the result event does not carry
          // them: the execution record below is what onRunbookResult reads). SSM compares the whole
          // request for a repeated ClientToken: every value here comes from the transition.
          Tags: [
            { Key: 'ops:started-by', Value: 'ops-autopilot' },
            { Key: 'ops:incident', Value: incidentTagValue(incidentKey) },
            { Key: 'ops:transition', Value: intent.clientToken },
          ],
        }),
      );
      started = res.AutomationExecutionId ?? 'unknown';
    } catch (error) {
      // The slot stays claimed: a failed call may still have started it, and a retry of this transition
      // keeps the slot (same ClientToken), so the limit can never be exceeded.
      if (answerMayBeLost(error)) {
        // The page must not tell the on-call the runbook did not run (they would start it by hand).
        return failed(
          intent.kind,
          error,
          `may have started ${target}: SSM's answer was lost; the retried delivery sends the same ClientToken, ` +
            'which gets that execution back instead of starting a second one',
        );
      }
      return failed(intent.kind, error, `could not start ${target}`);
    }
    if (started === 'unknown') {
      return done(intent.kind, `started ${target} (SSM returned no execution id)`);
    }
    if (intent.recordedWithPage) {
      // The page that follows writes the record once, with its link (functions/onAlarm/pageLink.ts):
      // what it needs to is in the refs.
      return done(intent.kind, `started ${target} (execution ${started})`, {
        executionId: started,
        document: intent.document,
        rule: intent.rule,
        clientToken: intent.clientToken,
      });
    }
    await recordRunbookExecution(incidentKey, intent.rule, intent.clientToken, started).catch(
      (error: unknown) =>
        logger.warn('runbook execution id not recorded', { incidentKey, executionId: started, error }),
    );
    try {
      // The result event carries no tags: this record is how onRunbookResult knows the execution is
      // ours, and what to escalate if it fails.
      await recordAutomationExecution(executionRecordOf(intent, ctx.signal, started));
    } catch (error) {
      // Unrecorded, a failure of this execution would be ignored: the retry (same ClientToken, same
      // execution) records it.
      return failed(
        intent.kind,
        error,
        `started ${target} (execution ${started}) but could not record it for its result; the delivery is retried`,
      );
    }
    return done(intent.kind, `started ${target} (execution ${started})`, { executionId: started });
  },
};
