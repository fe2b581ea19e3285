import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';

/**
 * CloudWatch alarm state changes as EventBridge delivers them: metric, metric-math, anomaly-detection,
 * composite and Metrics Insights (multi-time-series) alarms, and the per-contributor events of the
 * latter. Configuration-change events and anything else are rejected with the failing field named.
 */
const AlarmState = z.object({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.string(),
  // A JSON string whose keys vary by alarm type; absent on some types. Read defensively in signal.ts.
  reasonData: z.string().optional(),
  timestamp: z.string().min(1),
  actionsSuppressedBy: z.string().optional(),
  actionsSuppressedReason: z.string().optional(),
});

const MetricQuery = z.object({
  id: z.string(),
  metricStat: z
    .object({
      metric: z.object({
        namespace: z.string().optional(),
        name: z.string(),
        dimensions: z.record(z.string(), z.string()).optional(),
      }),
      period: z.number().optional(),
      stat: z.string().optional(),
    })
    .optional(),
  expression: z.string().optional(),
  label: z.string().optional(),
  returnData: z.boolean().optional(),
  period: z.number().optional(),
});

const AlarmDetail = z.object({
  alarmName: z.string().min(1),
  state: AlarmState,
  previousState: AlarmState.optional(),
  configuration: z
    .object({
      description: z.string().optional(),
      metrics: z.array(MetricQuery).optional(),
      alarmRule: z.string().optional(),
      actionsSuppressor: z.string().optional(),
    })
    .optional(),
  alarmTags: z.record(z.string(), z.string()).optional(),
  alarmTagsStatus: z.string().optional(),
  muteDetail: z
    .object({
      mutedByArn: z.string(),
      muteWindowStart: z.string().optional(),
      muteWindowEnd: z.string().optional(),
    })
    .optional(),
  alarmContributor: z
    .object({ id: z.string().min(1), attributes: z.record(z.string(), z.string()).default({}) })
    .optional(),
});

const Envelope = EventBridgeSchema.extend({
  source: z.literal('aws.cloudwatch'),
  resources: z.array(z.string().startsWith('arn:')).min(1),
  detail: AlarmDetail,
});

export const AlarmEvent = z.discriminatedUnion('detail-type', [
  Envelope.extend({ 'detail-type': z.literal('CloudWatch Alarm State Change') }),
  Envelope.extend({
    'detail-type': z.literal('CloudWatch Alarm Contributor State Change'),
    detail: AlarmDetail.required({ alarmContributor: true }),
  }),
]);
export type AlarmEvent = z.infer<typeof AlarmEvent>;
