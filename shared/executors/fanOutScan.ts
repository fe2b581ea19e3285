import type { SharedConfig } from '#shared/config.ts';
import type { FanOutScanIntent } from '#shared/domain/intent.ts';
import { done, failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import type { ScanTargetMessage } from '#shared/organization/scanMessage.ts';
import type { NotifyingExecutor } from './types.ts';

/**
 * The SQS client, loaded on the first fan-out: only an organization's scheduled run needs it, so the
 * code-split build keeps it out of every other run's cold start.
 */
const sqsActions = () => import('#shared/aws/sqs.ts');

/** SendMessageBatch takes at most 10 entries (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html). */
export const SEND_BATCH_SIZE = 10;

/** A batch entry id: unique within the batch, letters, digits, hyphens and underscores, at most 80. */
const entryId = (t: { account: string; region: string }): string => `${t.account}_${t.region}`;

/**
 * Puts one message per (account, region) on the organization's scan queue. It changes no resource (the
 * workers decide, and honour dry-run), so it runs in dry-run too. A retried run sends the same messages
 * again: the workers' runs are keyed by (run, account, region), so a second message of a target finds
 * its decision already made.
 */
export const fanOutScanExecutor: NotifyingExecutor<FanOutScanIntent, SharedConfig> = {
  kind: 'sqs.fan-out-scan',
  // sqs:SendMessage on the queue is the statement its function's deployment grants it.
  permissions: [],
  mutates: false,
  metrics: { done: 'ScanTargetsQueued' },
  async execute(intent, ctx): Promise<Outcome> {
    const queueUrl = ctx.config.orgScanQueueUrl;
    if (!queueUrl) {
      return failed(
        intent.kind,
        new Error('ORG_SCAN_QUEUE_URL is not set'),
        'no scan queue: the organization stage sets ORG_SCAN_QUEUE_URL; nothing queued',
      );
    }
    if (intent.targets.length === 0)
      return skipped(intent.kind, 'nothing-to-do', 'no served account to scan');
    const { sqs, SendMessageBatchCommand } = await sqsActions();
    const scheduledAt = ctx.signal.occurredAt;
    const unsent: string[] = [];
    let firstError: unknown;
    for (let from = 0; from < intent.targets.length; from += SEND_BATCH_SIZE) {
      const batch = intent.targets.slice(from, from + SEND_BATCH_SIZE);
      try {
        const res = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((t) => {
              const body: ScanTargetMessage = {
                kind: 'idle-scan-target',
                run: intent.run,
                scheduledAt,
                ...t,
              };
              return { Id: entryId(t), MessageBody: JSON.stringify(body) };
            }),
          }),
        );
        for (const f of res.Failed ?? []) {
          unsent.push(f.Id ?? 'unknown');
          firstError ??= new Error(`${f.Code ?? 'Failed'}: ${f.Message ?? ''}`);
        }
      } catch (error) {
        unsent.push(...batch.map(entryId));
        firstError ??= error;
      }
    }
    const queued = intent.targets.length - unsent.length;
    const detail = `queued ${queued} of ${intent.targets.length} scan target(s) of run ${intent.run}`;
    if (unsent.length > 0)
      return failed(intent.kind, firstError, `${detail}; not queued: ${unsent.join(', ')}`);
    return done(intent.kind, detail);
  },
};
