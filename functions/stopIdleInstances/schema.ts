import { z } from 'zod';
import { BoundedEnvelope, RecordId } from '#shared/domain/eventBridge.ts';
import { eventString } from '#shared/domain/text.ts';
import { ScanTargetMessage } from '#shared/organization/scanMessage.ts';

/**
 * Two ways in: the stage's EventBridge schedule (a `Scheduled Event`, empty detail) and a manual invoke
 * (`sls invoke -f stopIdleInstances --data '{"dryRun": true}'`) whose payload may override a few run
 * settings. Whether an override is allowed is a question for the stage (settings.ts), not the shape.
 * The scheduled shape is AWS's: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
export const ScheduledScanEvent = z.strictObject({
  // Strict: a run setting (dryRun, maxStopsPerHour) put beside the envelope would otherwise be dropped
  // without a word, and the run would go live with the stage's values.
  // Bounded like every event's envelope: the id keys the run's stop list and its page.
  ...BoundedEnvelope.shape,
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  detail: z.strictObject({}),
});
export type ScheduledScanEvent = z.infer<typeof ScheduledScanEvent>;

/** Every key is optional; any other key is an error that names it. */
export const ManualScanPayload = z.strictObject({
  dryRun: z.boolean().optional(),
  lookbackHours: z.number().int().min(1).max(168).optional(),
  cpuThresholdPercent: z.number().gt(0).max(100).optional(),
  networkThresholdBytesPerHour: z.number().int().min(0).optional(),
  /** A stricter rolling-hour limit for this run's stops (never above the stage's). */
  maxStopsPerHour: z.number().int().min(0).max(1000).optional(),
});
export type ManualScanPayload = z.infer<typeof ManualScanPayload>;

/**
 * On an organization's stage, one message of the scan queue (its event source mapping delivers one at a
 * time): one (account, region) of a scheduled run. Its body is checked as strictly as an event.
 */
const SqsScanRecord = z.object({
  messageId: RecordId,
  eventSource: z.literal('aws:sqs'),
  // The queue it came from: checked against this function's account and region by the spec's scope.
  eventSourceARN: eventString().regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/, {
    message: 'must be an SQS queue ARN',
  }),
  body: eventString()
    .max(1024)
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON scan target' });
        return z.NEVER;
      }
    })
    .pipe(ScanTargetMessage),
});
export const ScanTargetEvent = z.strictObject({
  Records: z.array(SqsScanRecord).length(1, { error: 'holds exactly one scan target (batch size 1)' }),
});
export type ScanTargetEvent = z.infer<typeof ScanTargetEvent>;

export type IdleScanEvent = ScheduledScanEvent | ManualScanPayload | ScanTargetEvent;

/** Manual keys that were renamed: the error says what to write instead. */
const RENAMED: Record<string, string> = {
  // The limit holds across runs within a rolling hour, not per run.
  maxStopsPerRun: 'maxStopsPerHour',
};

// A manual payload never has these keys; an EventBridge event always has both.
const looksLikeEventBridge = (input: unknown): boolean =>
  typeof input === 'object' && input !== null && ('detail-type' in input || 'source' in input);
// A manual payload never has Records; an SQS delivery always has.
const looksLikeQueueDelivery = (input: unknown): boolean =>
  typeof input === 'object' && input !== null && 'Records' in input;

/**
 * Picks the shape by the EventBridge keys instead of a zod union, whose failure would be one
 * "Invalid input" for both shapes; this way the error names the field that is wrong.
 */
export const IdleScanEvent = z.unknown().transform((input, ctx): IdleScanEvent => {
  const schema = looksLikeQueueDelivery(input)
    ? ScanTargetEvent
    : looksLikeEventBridge(input)
      ? ScheduledScanEvent
      : ManualScanPayload;
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const allowed = issue.path.length === 0 ? `; allowed: ${Object.keys(schema.shape).join(', ')}` : '';
    const renames =
      schema === ManualScanPayload
        ? keys.flatMap((k) => (k in RENAMED ? [`; "${k}" is now "${RENAMED[k]}"`] : []))
        : [];
    const message =
      keys.length > 0
        ? `unknown key(s) ${keys.map((k) => `"${k}"`).join(', ')}${renames.join('')}${allowed}`
        : issue.message;
    ctx.addIssue({ code: 'custom', message, path: issue.path, input });
  }
  return z.NEVER;
});

export const isScheduled = (event: IdleScanEvent): event is ScheduledScanEvent => 'detail-type' in event;
export const isScanTarget = (event: IdleScanEvent): event is ScanTargetEvent => 'Records' in event;
