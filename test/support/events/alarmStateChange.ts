import type { z } from 'zod';
import type { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmArn } from '#shared/domain/arn.ts';
import { type EnvelopeOverrides, fromFixture, withEnvelope } from './fixture.ts';

/** A CloudWatch alarm state change as EventBridge delivers it, before onAlarm's schema reads it. */
export type AlarmStateChange = z.input<typeof AlarmEvent>;
type StateValue = AlarmStateChange['detail']['state']['value'];

export interface AlarmStateChangeOverrides extends EnvelopeOverrides {
  /** The alarm's name; its ARN in `resources` follows (as do account and region), unless `resources` is given. */
  alarmName?: string;
  state?: StateValue;
  stateTimestamp?: string;
  reason?: string;
  /** The JSON string AWS puts beside the reason (datapoints, threshold, a composite's triggering alarms). */
  reasonData?: string;
  previousStateTimestamp?: string;
  /** A multi-time-series alarm's contributor; `null` makes the event the alarm's own state change. */
  contributor?: { id: string; attributes: Record<string, string> } | null;
}

type Loose = AlarmStateChange & {
  'detail-type': string;
  detail: AlarmStateChange['detail'] & {
    alarmContributor?: { id: string; attributes?: Record<string, string> };
  };
};

/**
 * An alarm state change from `events/onAlarm/<fixture>.json` (default: the documented metric alarm), with
 * the given fields changed where AWS puts them.
 */
export function alarmStateChange(
  fixture = 'metric-alarm',
  overrides: AlarmStateChangeOverrides = {},
): AlarmStateChange {
  const event = withEnvelope(fromFixture<Loose>('onAlarm', fixture), overrides);
  const { detail } = event;
  if (overrides.alarmName !== undefined) detail.alarmName = overrides.alarmName;
  const renamed = [overrides.alarmName, overrides.account, overrides.region].some((o) => o !== undefined);
  if (renamed && overrides.resources === undefined) {
    event.resources = [alarmArn(event.region, event.account, detail.alarmName)];
  }
  if (overrides.state !== undefined) detail.state.value = overrides.state;
  if (overrides.stateTimestamp !== undefined) detail.state.timestamp = overrides.stateTimestamp;
  if (overrides.reason !== undefined) detail.state.reason = overrides.reason;
  if (overrides.reasonData !== undefined) detail.state.reasonData = overrides.reasonData;
  if (detail.previousState) {
    if (overrides.previousStateTimestamp !== undefined) {
      detail.previousState.timestamp = overrides.previousStateTimestamp;
    }
  }
  if (overrides.contributor === null) {
    event['detail-type'] = 'CloudWatch Alarm State Change';
    delete detail.alarmContributor;
  } else if (overrides.contributor !== undefined) {
    event['detail-type'] = 'CloudWatch Alarm Contributor State Change';
    detail.alarmContributor = overrides.contributor;
  }
  return event as AlarmStateChange;
}
