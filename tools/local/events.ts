import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const EVENTS_DIR = join(import.meta.dirname, '..', '..', 'events');

/**
 * AWS's documented samples live under `events/<function>/aws-docs/` exactly as AWS publishes them. A few
 * hold a placeholder no real event can carry (the AWS Backup page's 13-digit account id, the Cost Anomaly
 * Detection page's `<account ID>`): every test and the demo read them with those filled in, here and only
 * here, so the files stay verbatim and the schemas keep their bounds. A sample the page prints with
 * comments is kept as `.jsonc` and read without them. Each fill is named in events/<function>/README.md.
 */
export const AWS_DOCS_FILLS: Record<string, [placeholder: string, value: string][]> = {
  onBackupFailure: [['1112233445566', '111122223333']],
  onCostAnomaly: [
    ['<id>', 'cad-eventbridge-example'],
    ['<account ID>', '123456789012'],
    ['<linked account ID>', '123456789012'],
    ['<region>', 'us-east-1'],
    ['<date>', '2021-05-25T00:00:00Z'],
    ['<account name>', 'example-account'],
    ['<linked account name>', 'example-account'],
    ['<dimension value>', 'Amazon Elastic Compute Cloud - Compute'],
    ['<service name>', 'Amazon Elastic Compute Cloud - Compute'],
    ['<usage type>', 'BoxUsage:m5.2xlarge'],
    ['<your monitor name>', 'aws-services-monitor'],
  ],
};

/** JSON with comments as AWS's pages print it: ` // ...` to the end of a line, and trailing commas. */
const withoutComments = (text: string) => text.replace(/ \/\/ [^"\n]*$/gm, '').replace(/,(\s*[}\]])/g, '$1');

/** A fixture's text as stored, with no fill: what AWS's page shows, for the samples under aws-docs/. */
export function readFixtureText(path: string): string {
  return readFileSync(join(EVENTS_DIR, path), 'utf8');
}

export function loadFixture<T = Record<string, unknown>>(path: string): T {
  let text = readFixtureText(path);
  if (path.endsWith('.jsonc')) text = withoutComments(text);
  if (path.includes('/aws-docs/')) {
    for (const [placeholder, value] of AWS_DOCS_FILLS[path.split('/')[0] ?? ''] ?? []) {
      text = text.replaceAll(placeholder, value);
    }
  }
  const parsed: unknown = JSON.parse(text);
  return (path.includes('/aws-docs/records/') ? asEventBridgeEvent(path, parsed) : parsed) as T;
}

/**
 * AWS documents CloudTrail records, not the EventBridge events that carry them (events/onCloudTrail/README.md).
 * A record under `aws-docs/records/` is read inside the envelope the EventBridge guide gives for it, and
 * nothing else is added: https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html.
 */
export function asEventBridgeEvent(path: string, record: unknown): Record<string, unknown> {
  const r = record as {
    eventSource: string;
    eventTime: string;
    awsRegion: string;
    eventType?: string;
    recipientAccountId?: string;
    userIdentity: { accountId?: string };
  };
  // A stable UUID per file, so a test that reads a record twice sees one event.
  const hash = createHash('sha256').update(path).digest('hex');
  const id = [
    hash.slice(0, 8),
    hash.slice(8, 12),
    `4${hash.slice(13, 16)}`,
    `8${hash.slice(17, 20)}`,
    hash.slice(20, 32),
  ];
  return {
    version: '0',
    id: id.join('-'),
    // Sign-in records (eventType AwsConsoleSignIn; one page prints it AwsConsoleSignin) come as sign-in events.
    'detail-type':
      r.eventType?.toLowerCase() === 'awsconsolesignin'
        ? 'AWS Console Sign In via CloudTrail'
        : 'AWS API Call via CloudTrail',
    source: `aws.${r.eventSource.replace(/\.amazonaws\.com$/, '')}`,
    // The oldest records have no recipientAccountId: the caller's account is the account they were logged in.
    account: r.recipientAccountId ?? r.userIdentity.accountId,
    time: r.eventTime,
    region: r.awsRegion,
    resources: [],
    detail: record,
  };
}

/** Every fixture under events/, as paths relative to it (invalid ones included). */
export function listFixtures(dir = EVENTS_DIR): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return listFixtures(full);
      return name.endsWith('.json') || name.endsWith('.jsonc') ? [relative(EVENTS_DIR, full)] : [];
    })
    .sort();
}

type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmEventOptions {
  id?: string;
  alarmName?: string;
  state?: AlarmState;
  previousState?: AlarmState;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  tags?: Record<string, string>;
  muted?: boolean;
  timestamp?: string;
}

/** A metric alarm state change, built from the documented sample with the parts a test cares about changed. */
export function makeAlarmEvent(options: AlarmEventOptions = {}) {
  const base = loadFixture<{
    id: string;
    resources: string[];
    detail: Record<string, unknown> & {
      alarmName: string;
      state: Record<string, unknown>;
      previousState: Record<string, unknown>;
      configuration: { metrics: { metricStat: { metric: Record<string, unknown> } }[] };
    };
  }>('onAlarm/metric-alarm.json');
  const alarmName = options.alarmName ?? base.detail.alarmName;
  const event = structuredClone(base);
  event.id = options.id ?? crypto.randomUUID();
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  event.detail.alarmName = alarmName;
  event.detail.state.value = options.state ?? 'ALARM';
  if (options.timestamp) event.detail.state.timestamp = options.timestamp;
  // A recovery comes after the alarm: by default an OK is stamped 30 minutes after the sample's ALARM.
  else if (options.state === 'OK') event.detail.state.timestamp = '2025-06-15T15:00:41.605+0000';
  event.detail.previousState.value = options.previousState ?? (options.state === 'OK' ? 'ALARM' : 'OK');
  const metric = event.detail.configuration.metrics[0]?.metricStat.metric;
  if (metric) {
    if (options.namespace) metric.namespace = options.namespace;
    if (options.metricName) metric.name = options.metricName;
    if (options.dimensions) metric.dimensions = options.dimensions;
  }
  if (options.tags) event.detail.alarmTags = options.tags;
  if (options.muted) {
    event.detail.muteDetail = {
      mutedByArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm-mute-rule:patching',
      muteWindowStart: '2025-06-21T02:00:00.000+0000',
      muteWindowEnd: '2025-06-21T04:00:00.000+0000',
    };
  }
  return event;
}
