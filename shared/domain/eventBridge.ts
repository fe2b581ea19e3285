import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { eventString, wellFormedUnicode } from './text.ts';
import { timestampProblem } from './time.ts';

/**
 * The EventBridge envelope with every field bounded, so whatever passes can be handled: the id keys
 * idempotency records, stop lists and pages (DynamoDB keys hold 2 KB), the time orders deliveries.
 * Envelope fields: https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
 */

/** A time that orders deliveries: readable, and not in the future beyond clock skew. */
export const notInFuture = (value: string, ctx: z.core.$RefinementCtx<string>) => {
  const problem = timestampProblem(value, Date.now());
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

/** An id that keys state-table records, page ids and idempotency: UUIDs and the like, bounded. */
export const RecordId = eventString().regex(/^[\x21-\x7e]{1,128}$/, {
  message: 'must be 1 to 128 printable ASCII characters, no spaces',
});

export const AccountId = eventString().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' });

/** An envelope name (source, detail type, replay): functions narrow the ones they route. */
const EnvelopeName = eventString().min(1).max(256);

/** An ARN an event lists among its resources. */
export const ResourceArn = eventString().startsWith('arn:').max(2048);

export const BoundedEnvelope = EventBridgeSchema.extend({
  version: eventString().max(16),
  // EventBridge ids are UUIDs.
  id: RecordId,
  'detail-type': EnvelopeName,
  source: EnvelopeName,
  time: z.iso.datetime().check(wellFormedUnicode).superRefine(notInFuture),
  account: AccountId,
  region: eventString().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, {
    message: 'must be an AWS region such as us-east-1',
  }),
  resources: z.array(ResourceArn).max(20),
  'replay-name': EnvelopeName.optional(),
});
