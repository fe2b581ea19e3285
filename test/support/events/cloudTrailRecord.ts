import type { z } from 'zod';
import type { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { type EnvelopeOverrides, fromFixture, withEnvelope } from './fixture.ts';

/** A CloudTrail record as EventBridge delivers it, before onCloudTrail's schema reads it. */
export type CloudTrailRecord = z.input<typeof CloudTrailEvent>;
type UserIdentity = CloudTrailRecord['detail']['userIdentity'];

export interface CloudTrailRecordOverrides extends EnvelopeOverrides {
  /** The record's own region (`detail.awsRegion`); `region` is the envelope's, the one it was delivered in. */
  awsRegion?: string;
  /** The account CloudTrail delivered the record to. */
  recipientAccountId?: string;
  /** The envelope's `source` (aws.<service>). */
  source?: string;
  eventSource?: string;
  eventName?: string;
  /** CloudTrail's own record id (idempotency and the page key on it). */
  eventID?: string;
  errorCode?: string;
  /** The call's parameters, replacing the fixture's. */
  requestParameters?: Record<string, unknown>;
  /** Parameters set over the fixture's, the others kept. */
  withRequestParameters?: Record<string, unknown>;
  /** Fields of the caller set over the fixture's (type, arn, accountId, ...). */
  userIdentity?: Partial<UserIdentity>;
  /** Fields set over the fixture's additionalEventData (MFAUsed, SamlProviderArn, ...). */
  additionalEventData?: Record<string, unknown>;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/**
 * A CloudTrail record from `events/onCloudTrail/<fixture>.json` (a path under it, such as
 * `exposure/ebs-snapshot-public`; default: a security group opened to the world), with the given fields
 * changed where CloudTrail puts them.
 */
export function cloudTrailRecord(
  fixture = 'security-group-open-world',
  overrides: CloudTrailRecordOverrides = {},
): CloudTrailRecord {
  const event = withEnvelope(fromFixture<CloudTrailRecord>('onCloudTrail', fixture), overrides);
  const { detail } = event;
  if (overrides.awsRegion !== undefined) detail.awsRegion = overrides.awsRegion;
  if (overrides.recipientAccountId !== undefined) detail.recipientAccountId = overrides.recipientAccountId;
  if (overrides.source !== undefined) event.source = overrides.source;
  if (overrides.eventSource !== undefined) detail.eventSource = overrides.eventSource;
  if (overrides.eventName !== undefined) detail.eventName = overrides.eventName;
  if (overrides.eventID !== undefined) detail.eventID = overrides.eventID;
  if (overrides.errorCode !== undefined) detail.errorCode = overrides.errorCode;
  if (overrides.requestParameters !== undefined) detail.requestParameters = overrides.requestParameters;
  if (overrides.withRequestParameters !== undefined) {
    detail.requestParameters = { ...asRecord(detail.requestParameters), ...overrides.withRequestParameters };
  }
  if (overrides.userIdentity !== undefined)
    detail.userIdentity = { ...detail.userIdentity, ...overrides.userIdentity };
  if (overrides.additionalEventData !== undefined) {
    detail.additionalEventData = {
      ...asRecord(detail.additionalEventData),
      ...overrides.additionalEventData,
    };
  }
  return event;
}

/** The same call recorded again: a new EventBridge id and CloudTrail event id, nothing else changed. */
export function anotherRecordOf(record: CloudTrailRecord): CloudTrailRecord {
  const copy = structuredClone(record);
  copy.id = crypto.randomUUID();
  copy.detail.eventID = crypto.randomUUID();
  return copy;
}
