import { z } from 'zod';
import { alarmArn } from '#shared/domain/arn.ts';
import { BoundedEnvelope, notInFuture, ResourceArn } from '#shared/domain/eventBridge.ts';
import { boundedRecord, boundedText, eventString } from '#shared/domain/text.ts';

/**
 * CloudWatch alarm state changes as EventBridge delivers them: metric, metric-math, anomaly-detection,
 * composite and Metrics Insights (multi-time-series) alarms, and the per-contributor events of the
 * latter. Configuration-change events and anything else are rejected with the failing field named.
 * The shapes are AWS's: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 * (what each fixture under events/onAlarm/ is based on is in its README).
 *
 * Everything that passes can be handled to the end: strings are bounded to what AWS itself allows (or a
 * little more), valid Unicode and free of control characters, so no key, link, page or message
 * attribute fails after a runbook already ran.
 */

/** Names AWS caps at 255 characters: alarm, namespace, metric and dimension names. */
const name255 = boundedText({ min: 1, max: 255 });
/** Single-line text such as ARNs, statistics and suppression states. */
const line = (max: number) => boundedText({ max });
/** Free text shown in pages: reasons, descriptions. */
const prose = (max: number) => boundedText({ max, multiline: true });

const AlarmState = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: prose(4096),
  // A JSON string whose keys vary by alarm type; absent on some types. Read defensively in signal.ts.
  // Composite alarms list their triggering alarms here, so it may be far longer than the reason.
  reasonData: prose(65_536).optional(),
  timestamp: eventString().min(1).max(64).superRefine(notInFuture),
  actionsSuppressedBy: line(255).optional(),
  actionsSuppressedReason: prose(1024).optional(),
});

/** A metric's dimensions, or a contributor's attributes (its GROUP BY values): 30 at most, as in CloudWatch. */
const Dimensions = boundedRecord({ maxEntries: 30, key: { min: 1, max: 255 }, value: { max: 1024 } });

const MetricQuery = z.object({
  id: name255,
  metricStat: z
    .object({
      metric: z.object({
        namespace: name255.optional(),
        name: name255,
        dimensions: Dimensions.optional(),
      }),
      period: z.number().optional(),
      stat: line(255).optional(),
    })
    .optional(),
  expression: prose(8192).optional(),
  label: prose(2048).optional(),
  returnData: z.boolean().optional(),
  period: z.number().optional(),
});

const AlarmDetail = z.object({
  alarmName: name255,
  state: AlarmState,
  previousState: AlarmState.optional(),
  configuration: z
    .object({
      description: prose(1024).optional(),
      metrics: z.array(MetricQuery).max(100).optional(),
      alarmRule: prose(10_240).optional(),
      actionsSuppressor: line(2048).optional(),
    })
    .optional(),
  // AWS tag limits: 50 tags, keys up to 128 characters, values up to 256.
  alarmTags: boundedRecord({ maxEntries: 50, key: { min: 1, max: 128 }, value: { max: 256 } }).optional(),
  alarmTagsStatus: line(64).optional(),
  muteDetail: z
    .object({
      mutedByArn: boundedText({ min: 1, max: 2048 }),
      // A mute window may well end in the future: bounded, not ordered.
      muteWindowStart: line(64).optional(),
      muteWindowEnd: line(64).optional(),
    })
    .optional(),
  alarmContributor: z
    .object({ id: boundedText({ min: 1, max: 1024 }), attributes: Dimensions.default({}) })
    .optional(),
});

const Envelope = BoundedEnvelope.extend({
  source: z.literal('aws.cloudwatch'),
  resources: z.array(ResourceArn).min(1).max(20),
  detail: AlarmDetail,
});

export const AlarmEvent = z
  .discriminatedUnion('detail-type', [
    Envelope.extend({ 'detail-type': z.literal('CloudWatch Alarm State Change') }),
    Envelope.extend({
      'detail-type': z.literal('CloudWatch Alarm Contributor State Change'),
      detail: AlarmDetail.required({ alarmContributor: true }),
    }),
  ])
  // The incident key is the alarm's ARN: an event must name its own alarm, in its own account and
  // region, or it could suppress or resolve another alarm's incident.
  .superRefine((event, ctx) => {
    const arn = alarmArn(event.region, event.account, event.detail.alarmName);
    if (!event.resources.includes(arn)) {
      ctx.addIssue({
        code: 'custom',
        path: ['resources'],
        message: `must contain the alarm's own ARN ${arn}`,
      });
    }
  });
export type AlarmEvent = z.infer<typeof AlarmEvent>;
