import { z } from 'zod';
import { BoundedEnvelope, notInFuture } from '#shared/domain/eventBridge.ts';
import { boundedText, eventString, wellFormedUnicode } from '#shared/domain/text.ts';

/**
 * CloudTrail records as EventBridge delivers them: "AWS API Call via CloudTrail" and "AWS Console Sign
 * In via CloudTrail". Record fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 * and identities: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 * (what each fixture under events/onCloudTrail/ is based on is in its README).
 *
 * The fields a page shows are bounded here. Request parameters vary by API and are kept as JSON: the
 * detections read only the parts they know and check each value's format before any use.
 */

const line = (max: number) => boundedText({ max });
const arn = boundedText({ max: 2048 });

const Issuer = z.object({
  type: line(64).optional(),
  principalId: line(256).optional(),
  arn: arn.optional(),
  accountId: line(32).optional(),
  userName: line(256).optional(),
});

const UserIdentity = z.object({
  type: line(64),
  principalId: line(256).optional(),
  arn: arn.optional(),
  accountId: line(32).optional(),
  accessKeyId: line(128).optional(),
  userName: line(256).optional(),
  invokedBy: line(256).optional(),
  sessionContext: z
    .object({
      sessionIssuer: Issuer.optional(),
      attributes: z
        .object({ creationDate: line(64).optional(), mfaAuthenticated: line(16).optional() })
        .optional(),
    })
    .optional(),
});

/** Arbitrary JSON from the record (request parameters, response elements): read with care, never trusted. */
const Json = z.unknown();

const Detail = z.object({
  eventVersion: line(16).optional(),
  userIdentity: UserIdentity,
  eventTime: z.iso.datetime().check(wellFormedUnicode).superRefine(notInFuture),
  eventSource: boundedText({ min: 1, max: 128 }),
  eventName: boundedText({ min: 1, max: 128 }),
  awsRegion: line(32),
  sourceIPAddress: line(256).optional(),
  userAgent: line(1024).optional(),
  errorCode: line(256).optional(),
  errorMessage: boundedText({ max: 4096, multiline: true }).optional(),
  requestParameters: Json.optional(),
  responseElements: Json.optional(),
  additionalEventData: Json.optional(),
  // The record's own id keys idempotency and the page: a GUID in CloudTrail.
  eventID: eventString().regex(/^[A-Za-z0-9-]{1,128}$/, { message: 'must be a CloudTrail event id' }),
  eventType: line(64).optional(),
  recipientAccountId: line(32).optional(),
});

export const CloudTrailEvent = BoundedEnvelope.extend({
  'detail-type': z.enum(['AWS API Call via CloudTrail', 'AWS Console Sign In via CloudTrail']),
  source: eventString().regex(/^aws\.[a-z0-9-]{1,64}$/, { message: 'must be an AWS service source' }),
  detail: Detail,
});
export type CloudTrailEvent = z.infer<typeof CloudTrailEvent>;
