import { z } from 'zod';
import { AccountId, BoundedEnvelope, notInFuture } from '#shared/domain/eventBridge.ts';
import { boundedText, eventString } from '#shared/domain/text.ts';

/**
 * An AWS Health event as EventBridge delivers it: the scaffold's starting point (npm run new:function),
 * replace it with your source's event. The shape is AWS's:
 * https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html
 *
 * Every field that reaches a decision or a page is bounded: the event ARN keys the incident (and so the
 * page's suppression), the category and status choose whether it pages, the texts are shown.
 */

/** The categories AWS Health sends; the stage's settings choose which page. */
export const HEALTH_CATEGORIES = ['issue', 'accountNotification', 'scheduledChange', 'investigation'] as const;
export type HealthCategory = (typeof HEALTH_CATEGORIES)[number];

/** `arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_...`; the region may be `global`. */
const HealthEventArn = eventString().regex(/^arn:aws[a-z-]{0,16}:health:[a-z0-9-]{1,32}::event\/[A-Za-z0-9_./-]{1,512}$/, {
  message: 'must be an AWS Health event ARN (arn:<partition>:health:<region>::event/...)',
});

/** AWS writes these as RFC 1123 dates (`Wed, 31 Jan 2024 21:47:00 GMT`): readable, bounded. */
const healthTime = eventString()
  .min(1)
  .max(64)
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: 'must be a readable date' });

const Code = eventString().regex(/^[A-Za-z0-9_.-]{1,100}$/, {
  message: 'must be 1 to 100 of A-Z, a-z, 0-9, _ . -',
});

const HealthDetail = z.object({
  eventArn: HealthEventArn,
  service: Code,
  eventTypeCode: Code,
  eventTypeCategory: z.enum(HEALTH_CATEGORIES),
  eventScopeCode: z.enum(['PUBLIC', 'ACCOUNT_SPECIFIC', 'NONE']).optional(),
  communicationId: boundedText({ max: 256 }).optional(),
  // A scheduled change starts in the future: only its last update must not be.
  startTime: healthTime,
  endTime: healthTime.optional(),
  lastUpdatedTime: healthTime.superRefine(notInFuture).optional(),
  statusCode: z.enum(['open', 'closed', 'upcoming']),
  eventRegion: eventString().regex(/^([a-z]{2}(-[a-z]+)+-\d{1,2}|global)$/, {
    message: 'must be an AWS region such as us-east-1, or global',
  }),
  eventDescription: z
    .array(
      z.object({
        language: boundedText({ max: 16 }),
        latestDescription: boundedText({ max: 10_000, multiline: true }),
      }),
    )
    .max(10),
  affectedEntities: z
    .array(z.object({ entityValue: boundedText({ max: 1600 }) }))
    .max(100)
    .optional(),
  affectedAccount: AccountId.optional(),
});

export const __EVENT__ = BoundedEnvelope.extend({
  source: z.literal('aws.health'),
  'detail-type': z.literal('AWS Health Event'),
  detail: HealthDetail,
});
export type __EVENT__ = z.infer<typeof __EVENT__>;
