import type { PageIntent } from '#shared/domain/intent.ts';
import { failed, skipped } from '#shared/domain/outcome.ts';
import { pageIdOf } from '#shared/domain/page.ts';
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
import type { Claimed, PageClaim } from './claim.ts';

const RESOLVE_WAITS = 4;
const RESOLVE_WAIT_MS = 250;
const MARK_ATTEMPTS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The page is out: failing to record that must not undo the claim. Try hard, since an unrecorded page
 * looks unsent to a retry (which would page again) and defers the resolve notice.
 */
async function recordSent(intent: PageIntent, mark: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mark();
      return;
    } catch (error) {
      if (attempt >= MARK_ATTEMPTS) {
        logger.error('page sent but not recorded as sent', { incidentKey: intent.incidentKey, error });
        return;
      }
      await sleep(100 * 2 ** attempt);
    }
  }
}

async function claimIncident(intent: PageIntent, windowMinutes: number): Promise<Claimed> {
  const { incidentKey, correlationId } = intent;
  if (!deduplicationIsOn()) {
    // Storm bench only (see deduplicationIsOn): every delivery pages, nothing is recorded.
    return {
      send: true,
      repeats: 0,
      pageId: pageIdOf(incidentKey, 'incident', correlationId),
      verb: 'paged',
    };
  }
  const d = await openWindow({
    incidentKey,
    correlationId,
    windowSeconds: windowMinutes * 60,
    severity: intent.severity,
    occurredAtMs: parseAwsTimestamp(intent.occurredAt),
  });
  if (d.action === 'page') {
    return {
      send: true,
      repeats: d.repeatsBefore,
      // This delivery opened the incident (or is the retry of the one that did).
      pageId: pageIdOf(incidentKey, 'incident', correlationId),
      verb: 'paged',
      ...(d.reopened ? { reopened: true } : {}),
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
}

async function claimResolveNotice(intent: PageIntent): Promise<Claimed> {
  const { incidentKey, correlationId } = intent;
  const okAtMs = parseAwsTimestamp(intent.occurredAt);
  let d = await claimResolve(incidentKey, correlationId, okAtMs);
  // The page is being published right now (milliseconds): wait briefly rather than fail the OK.
  for (let attempt = 1; d.action === 'retry' && attempt <= RESOLVE_WAITS; attempt++) {
    await sleep(RESOLVE_WAIT_MS * attempt);
    d = await claimResolve(incidentKey, correlationId, okAtMs);
  }
  if (d.action === 'resolve') {
    return {
      send: true,
      repeats: d.repeats,
      pageId: pageIdOf(incidentKey, 'resolve', d.pagedBy ?? correlationId),
      verb: 'sent resolve notice',
      ...(d.pagedBy ? { resolvesPageId: pageIdOf(incidentKey, 'incident', d.pagedBy) } : {}),
      ...(d.severity ? { incidentSeverity: d.severity } : {}),
    };
  }
  if (d.action === 'retry') {
    // Failing makes Lambda retry this OK after the page has gone out, instead of dropping it.
    const error = Object.assign(new Error(d.why), { name: 'PageInProgress' });
    return { send: false, outcome: failed(intent.kind, error, `resolve notice for ${incidentKey} deferred`) };
  }
  return {
    send: false,
    outcome: skipped(intent.kind, d.reason, `no resolve notice for ${incidentKey}: ${d.why}`),
  };
}

/**
 * The incident window (onAlarm, onCloudTrail, onBackupFailure, stopIdleInstances): one page per
 * incident per suppression window, and one resolve notice per page, on the incident's record.
 */
export const incidentWindowClaim: PageClaim<PageIntent> = {
  describe: (intent) => `the ${intent.notice} notice for ${intent.incidentKey}`,
  claim: (intent, ctx) =>
    intent.notice === 'incident'
      ? claimIncident(intent, ctx.config.paging.suppressionWindowMinutes)
      : claimResolveNotice(intent),
  async markSent(intent) {
    if (intent.notice === 'incident' && !deduplicationIsOn()) return;
    const { incidentKey, correlationId } = intent;
    await recordSent(intent, () =>
      intent.notice === 'incident'
        ? markPageSent(incidentKey, correlationId)
        : markResolveSent(incidentKey, correlationId),
    );
  },
  async release(intent) {
    if (intent.notice === 'incident' && !deduplicationIsOn()) return;
    const { incidentKey, correlationId } = intent;
    await (intent.notice === 'incident'
      ? releaseWindow(incidentKey, correlationId)
      : releaseResolve(incidentKey, correlationId));
  },
};
