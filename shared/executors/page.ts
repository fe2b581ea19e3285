import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '#shared/aws/sns.ts';
import type { PageIntent } from '#shared/domain/intent.ts';
import { done, failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import { pageIdOf, type RenderedPage, renderPage } from '#shared/domain/page.ts';
import type { Severity } from '#shared/domain/severity.ts';
import { parseAwsTimestamp } from '#shared/domain/time.ts';
import { deduplicationIsOn } from '#shared/runtime/deduplication.ts';
import { logger } from '#shared/runtime/powertools.ts';
import {
  claimResolve,
  markPageSent,
  markResolveSent,
  openWindow,
  releaseResolve,
  releaseWindow,
} from '#shared/state/suppression.ts';
import type { ExecutionContext, Executor } from './types.ts';

const RESOLVE_WAITS = 4;
const RESOLVE_WAIT_MS = 250;
const MARK_ATTEMPTS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publish(page: RenderedPage, topicArn: string): Promise<string> {
  const res = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: page.subject,
      Message: page.body,
      MessageAttributes: Object.fromEntries(
        Object.entries(page.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
    }),
  );
  return res.MessageId ?? 'unknown';
}

type Claim =
  | {
      send: true;
      repeats: number;
      pageId: string;
      resolvesPageId?: string;
      reopened?: boolean;
      incidentSeverity?: Severity;
    }
  | { send: false; outcome: Outcome };

/**
 * Whether a failed Publish may still have reached SNS: no answer at all (connection lost, timeout,
 * aborted) or a server error. A 4xx answer (throttled, not found, not authorized) means it was not sent.
 */
export function mayHaveBeenPublished(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  return status === undefined || status >= 500;
}

/** How one kind of notice claims its slot in the state table, and undoes the claim if it cannot be sent. */
interface NoticeSlot {
  claim(): Promise<Claim>;
  markSent(): Promise<void>;
  release(): Promise<void>;
  sentVerb: string;
}

function slotFor(intent: PageIntent, ctx: ExecutionContext): NoticeSlot {
  const { incidentKey, correlationId } = intent;
  const occurredAtMs = parseAwsTimestamp(intent.occurredAt);
  if (intent.notice === 'incident' && !deduplicationIsOn()) {
    // Storm bench only (see deduplicationIsOn): every delivery pages, nothing is recorded.
    return {
      claim: async () => ({
        send: true,
        repeats: 0,
        pageId: pageIdOf(incidentKey, 'incident', correlationId),
      }),
      markSent: async () => undefined,
      release: async () => undefined,
      sentVerb: 'paged',
    };
  }
  if (intent.notice === 'incident') {
    return {
      async claim() {
        const d = await openWindow({
          incidentKey,
          correlationId,
          windowSeconds: ctx.config.paging.suppressionWindowMinutes * 60,
          severity: intent.severity,
          occurredAtMs,
        });
        if (d.action === 'page') {
          return {
            send: true,
            repeats: d.repeatsBefore,
            // This delivery opened the incident (or is the retry of the one that did).
            pageId: pageIdOf(incidentKey, 'incident', correlationId),
            reopened: d.reopened,
          };
        }
        if (d.action === 'stale') {
          return { send: false, outcome: skipped(intent.kind, 'already-recovered', `not paged: ${d.why}`) };
        }
        const note = d.counted ? '' : ' (this delivery was counted before)';
        return {
          send: false,
          outcome: skipped(
            intent.kind,
            'suppressed',
            `already paged for ${incidentKey} in this window; ${d.repeats} repeat(s) counted${note}`,
          ),
        };
      },
      markSent: () => markPageSent(incidentKey, correlationId),
      release: () => releaseWindow(incidentKey, correlationId),
      sentVerb: 'paged',
    };
  }
  return {
    async claim() {
      let d = await claimResolve(incidentKey, correlationId, occurredAtMs);
      // The page is being published right now (milliseconds): wait briefly rather than fail the OK.
      for (let attempt = 1; d.action === 'retry' && attempt <= RESOLVE_WAITS; attempt++) {
        await sleep(RESOLVE_WAIT_MS * attempt);
        d = await claimResolve(incidentKey, correlationId, occurredAtMs);
      }
      if (d.action === 'resolve') {
        return {
          send: true,
          repeats: d.repeats,
          pageId: pageIdOf(incidentKey, 'resolve', d.pagedBy ?? correlationId),
          ...(d.pagedBy ? { resolvesPageId: pageIdOf(incidentKey, 'incident', d.pagedBy) } : {}),
          ...(d.severity ? { incidentSeverity: d.severity } : {}),
        };
      }
      if (d.action === 'retry') {
        // Failing makes Lambda retry this OK after the page has gone out, instead of dropping it.
        const error = Object.assign(new Error(d.why), { name: 'PageInProgress' });
        return {
          send: false,
          outcome: failed(intent.kind, error, `resolve notice for ${incidentKey} deferred`),
        };
      }
      return {
        send: false,
        outcome: skipped(intent.kind, d.reason, `no resolve notice for ${incidentKey}: ${d.why}`),
      };
    },
    markSent: () => markResolveSent(incidentKey, correlationId),
    release: () => releaseResolve(incidentKey, correlationId),
    sentVerb: 'sent resolve notice',
  };
}

/** Pages once per incident per window, and sends one resolve notice after a page. */
export const pageExecutor: Executor<PageIntent> = {
  kind: 'sns.page',
  // The topic is encrypted with the stack's key: publishing needs the key too.
  metrics: { done: 'PagesSent', refused: { suppressed: 'PagesSuppressed' } },
  permissions: [
    'sns:Publish',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
  ],
  mutates: false,
  async execute(intent, ctx) {
    const topicArn = ctx.config.pageTopicArn;
    if (!topicArn) {
      return failed(intent.kind, new Error('PAGE_TOPIC_ARN is not set'), 'cannot page: no topic configured');
    }
    const slot = slotFor(intent, ctx);
    let claim: Claim;
    try {
      claim = await slot.claim();
    } catch (error) {
      // The state table could not decide (unreachable, or the record kept changing): Lambda retries.
      return failed(
        intent.kind,
        error,
        `could not claim the ${intent.notice} notice for ${intent.incidentKey}`,
      );
    }
    if (!claim.send) return claim.outcome;
    const page = renderPage(intent, {
      outcomes: ctx.prior,
      repeats: claim.repeats,
      stage: ctx.config.stage,
      dryRun: ctx.config.dryRun,
      pageId: claim.pageId,
      ...(claim.resolvesPageId ? { resolvesPageId: claim.resolvesPageId } : {}),
      ...(claim.reopened ? { reopened: true } : {}),
      ...(claim.incidentSeverity ? { incidentSeverity: claim.incidentSeverity } : {}),
    });
    let messageId: string;
    try {
      messageId = await publish(page, topicArn);
    } catch (error) {
      if (mayHaveBeenPublished(error)) {
        // SNS may have sent it (a lost response, a timeout): keep the claim, so only this delivery's
        // retry pages again, under the same page id, and subscribers can drop the copy.
        return failed(intent.kind, error, `may not have sent "${page.subject}" (page id ${claim.pageId})`);
      }
      // SNS refused it: undo the claim, so whichever delivery comes next can page.
      await slot.release();
      return failed(intent.kind, error, `could not send "${page.subject}"`);
    }
    // The page is out: failing to record that must not undo the claim. Try hard, since an unrecorded
    // page looks unsent to a retry (which would page again) and defers the resolve notice.
    for (let attempt = 1; ; attempt++) {
      try {
        await slot.markSent();
        break;
      } catch (error) {
        if (attempt >= MARK_ATTEMPTS) {
          logger.error('page sent but not recorded as sent', {
            incidentKey: intent.incidentKey,
            error,
          });
          break;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
    return done(intent.kind, `${slot.sentVerb} "${page.subject}"`, { messageId, pageId: claim.pageId });
  },
};
