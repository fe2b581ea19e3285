import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmSignal } from '#functions/onAlarm/signal.ts';
import { pageIntent, renderPage } from '#shared/domain/page.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { alarmStateChange } from '../support/events/index.ts';

type RawEvent = ReturnType<typeof makeAlarmEvent> & Record<string, unknown>;

/** The issues of a payload the schema refuses, as `path: message`; [] when it is accepted. */
function problems(event: unknown): string[] {
  const parsed = AlarmEvent.safeParse(event);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

/** The sample alarm event with its name (and so its ARN) replaced. */
const named = (alarmName: string) => makeAlarmEvent({ alarmName }) as RawEvent;

/** The sample alarm event in another region and account, with the ARN AWS would put in it. */
const elsewhere = (region: string, partition: string) =>
  alarmStateChange('metric-alarm', {
    alarmName: 'web-cpu-high',
    region,
    account: '210987654321',
    resources: [`arn:${partition}:cloudwatch:${region}:210987654321:alarm:web-cpu-high`],
  });

describe('AlarmEvent schema: timestamps (a future one would silence the alarm)', () => {
  const NOW = Date.UTC(2025, 5, 15, 14, 30, 0);
  const minutesFromNow = (m: number) => new Date(NOW + m * 60_000).toISOString().replace('Z', '+0000');

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a state timestamp up to 5 minutes ahead of the clock (skew)', () => {
    // Arrange
    const event = makeAlarmEvent({ timestamp: minutesFromNow(4) });
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toEqual([]);
  });

  it('rejects a state timestamp more than 5 minutes ahead, saying so', () => {
    // Arrange
    const event = makeAlarmEvent({ state: 'OK', timestamp: minutesFromNow(6) });
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toEqual([
      'detail.state.timestamp: is more than 5 minutes in the future (now is 2025-06-15T14:30:00.000Z)',
    ]);
  });

  it('accepts a state change delivered a year late', () => {
    // Arrange
    const event = makeAlarmEvent({ timestamp: minutesFromNow(-365 * 24 * 60) });
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toEqual([]);
  });

  it('rejects a future previous-state timestamp and an unreadable one', () => {
    // Arrange
    const future = alarmStateChange('metric-alarm', { previousStateTimestamp: minutesFromNow(60) });
    const unreadable = makeAlarmEvent({ timestamp: '15/06/2025 14:30' });
    // Act
    const [a, b] = [problems(future), problems(unreadable)];
    // Assert
    expect(a).toEqual([expect.stringMatching(/^detail\.previousState\.timestamp: is more than 5 minutes/)]);
    expect(b).toEqual(['detail.state.timestamp: is not a readable timestamp']);
  });

  it('rejects an envelope time more than 5 minutes ahead', () => {
    // Arrange
    const event = alarmStateChange('metric-alarm', { time: new Date(NOW + 10 * 60_000).toISOString() });
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toEqual([expect.stringMatching(/^time: is more than 5 minutes in the future/)]);
  });

  it('accepts a mute window that ends in the future (not a state time)', () => {
    // Arrange
    const event = makeAlarmEvent({ muted: true });
    (event.detail.muteDetail as { muteWindowEnd: string }).muteWindowEnd = minutesFromNow(120);
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toEqual([]);
  });
});

describe("AlarmEvent schema: resources must hold the alarm's own ARN (the incident key)", () => {
  it.each(['checkout api p99 / eu-west', 'team:payments/latency', 'Ünïcödé alarm ✓'])(
    'accepts the alarm %j, whose ARN holds its name raw, and keys the incident by it',
    (alarmName) => {
      // Arrange
      const event = named(alarmName);
      // Act
      const signal = alarmSignal(AlarmEvent.parse(event));
      // Assert
      expect(signal.incidentKey).toBe(`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`);
      expect(signal.links[0]?.url).toContain(encodeURIComponent(alarmName));
    },
  );

  it('accepts a composite alarm, whose ARN has the same form', () => {
    // Act
    const signal = alarmSignal(AlarmEvent.parse(loadFixture('onAlarm/composite-alarm.json')));
    // Assert
    expect(signal.incidentKey).toBe(
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-service-aggregate',
    );
  });

  it.each([
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['eu-west-1', 'aws'],
  ])('accepts an alarm in %s with its %s ARN', (region, partition) => {
    // Act
    const signal = alarmSignal(AlarmEvent.parse(elsewhere(region, partition)));
    // Assert
    expect(signal.incidentKey).toBe(`arn:${partition}:cloudwatch:${region}:210987654321:alarm:web-cpu-high`);
  });

  it.each([
    ['another alarm', 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:db-disk-full'],
    ['a name that only starts the same', 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high-2'],
    ['another account', 'arn:aws:cloudwatch:us-east-1:210987654321:alarm:web-cpu-high'],
    ['another region', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:web-cpu-high'],
    ['the wrong partition', 'arn:aws-cn:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high'],
    ['another service', 'arn:aws:sns:us-east-1:123456789012:alarm:web-cpu-high'],
  ])('rejects an event for web-cpu-high whose resources name %s', (_what, arn) => {
    // Arrange
    const event = alarmStateChange('metric-alarm', { alarmName: 'web-cpu-high', resources: [arn] });
    // Act
    const issues = problems(event);
    // Assert
    expect(issues).toEqual([
      "resources: must contain the alarm's own ARN arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high",
    ]);
  });

  it("keys the incident by the alarm's ARN even when resources lists another ARN first", () => {
    // Arrange
    const event = alarmStateChange('metric-alarm', {
      alarmName: 'web-cpu-high',
      resources: [
        'arn:aws:cloudwatch:us-east-1:123456789012:alarm:db-disk-full',
        'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high',
      ],
    });
    // Act
    const signal = alarmSignal(AlarmEvent.parse(event));
    // Assert
    expect(signal.incidentKey).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high');
  });
});

describe('AlarmEvent schema: bounds, so whatever passes can be handled', () => {
  it('accepts an alarm name of 255 characters, counting characters outside the BMP as one', () => {
    // Arrange
    const ascii = named('a'.repeat(255));
    const astral = named('🔥'.repeat(255));
    // Act
    const issues = [...problems(ascii), ...problems(astral)];
    // Assert
    expect(issues).toEqual([]);
  });

  it.each([
    ['an empty id', (e: RawEvent) => Object.assign(e, { id: '' }), 'id: must be 1 to 128 printable'],
    ['an id over 128 characters', (e: RawEvent) => Object.assign(e, { id: 'x'.repeat(129) }), 'id: must be'],
    ['an id with a space', (e: RawEvent) => Object.assign(e, { id: 'a b' }), 'id: must be'],
    [
      'an 11-digit account',
      (e: RawEvent) => Object.assign(e, { account: '12345678901' }),
      'account: must be',
    ],
    ['an empty region', (e: RawEvent) => Object.assign(e, { region: '' }), 'region: must be an AWS region'],
    ['an upper-case region', (e: RawEvent) => Object.assign(e, { region: 'US-EAST-1' }), 'region: must be'],
    [
      'a 256-character alarm name',
      (e: RawEvent) => Object.assign(e, named('n'.repeat(256))),
      'detail.alarmName: must be 1 to 255 characters (is 256)',
    ],
    [
      'a lone surrogate in the alarm name',
      (e: RawEvent) => Object.assign(e, named('web-\ud83d-high')),
      'detail.alarmName: is not valid Unicode',
    ],
    [
      'a line break in the alarm name',
      (e: RawEvent) => Object.assign(e, named('web-cpu-high\nIGNORE')),
      'detail.alarmName: contains a control character',
    ],
    [
      'a reason over 4096 characters',
      (e: RawEvent) =>
        Object.assign(
          e,
          alarmStateChange('metric-alarm', { alarmName: 'web-cpu-high', reason: 'r'.repeat(4097) }),
        ),
      'detail.state.reason: must be at most 4096 characters',
    ],
    [
      'a dimension value over 1024 characters',
      (e: RawEvent) => Object.assign(e, makeAlarmEvent({ dimensions: { InstanceId: 'i'.repeat(1025) } })),
      'detail.configuration.metrics.0.metricStat.metric.dimensions.InstanceId: must be at most 1024 characters',
    ],
    [
      'a lone surrogate in a dimension name',
      (e: RawEvent) => Object.assign(e, makeAlarmEvent({ dimensions: { '\udc00': 'x' } })),
      'detail.configuration.metrics.0.metricStat.metric.dimensions: a key is not valid Unicode',
    ],
    [
      'a tag key over 128 characters',
      (e: RawEvent) => Object.assign(e, makeAlarmEvent({ tags: { ['k'.repeat(129)]: 'v' } })),
      'detail.alarmTags: a key must be 1 to 128 characters',
    ],
    [
      'more than 50 tags',
      (e: RawEvent) =>
        Object.assign(
          e,
          makeAlarmEvent({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v'])) }),
        ),
      'detail.alarmTags: must have at most 50 entries',
    ],
  ])('rejects %s', (_what, change, expected) => {
    // Arrange
    const event = change(named('web-cpu-high'));
    // Act
    const issues = problems(event);
    // Assert
    expect(issues.join('\n')).toContain(expected);
  });

  it('rejects a contributor with an empty id or a control character in an attribute', () => {
    // Arrange
    const emptyId = alarmStateChange('multi-time-series-contributor-alarm', {
      contributor: { id: '', attributes: { TableName: 'payments-ledger' } },
    });
    const badAttribute = alarmStateChange('multi-time-series-contributor-alarm', {
      contributor: { id: '8b1e4c7a2f9d0e35', attributes: { TableName: 'orders\u0007' } },
    });
    // Act
    const [a, b] = [problems(emptyId), problems(badAttribute)];
    // Assert
    expect(a).toEqual(['detail.alarmContributor.id: must be 1 to 1024 characters (is 0)']);
    expect(b).toEqual(['detail.alarmContributor.attributes.TableName: contains a control character']);
  });

  it('leaves out of the evidence a triggering alarm ARN that JSON escapes made invalid', () => {
    // Arrange
    const event = AlarmEvent.parse(loadFixture('onAlarm/composite-alarm.json'));
    event.detail.state.reasonData = JSON.stringify({
      triggeringAlarms: [
        { arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high' },
        { arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:bad-\ud800' },
      ],
    });
    // Act
    const signal = alarmSignal(event);
    // Assert
    expect(signal.evidence.triggeringAlarms).toBe('web-cpu-high');
  });

  it('either rejects an alarm name, naming the field, or turns it into a signal and a page (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'grapheme', maxLength: 300 }),
        ),
        (alarmName) => {
          // Arrange
          const parsed = AlarmEvent.safeParse(named(alarmName));
          if (!parsed.success) {
            // Assert (rejected)
            expect(parsed.error.issues.map((i) => i.path.join('.'))).toEqual(['detail.alarmName']);
            return;
          }
          // Act
          const signal = alarmSignal(parsed.data);
          const page = renderPage(pageIntent(signal, { notice: 'incident', severity: 'high', reason: 'r' }), {
            outcomes: [],
            repeats: 0,
            stage: 'dev',
            dryRun: false,
            pageId: 'p-1',
          });
          // Assert (accepted)
          expect(signal.incidentKey.endsWith(`:alarm:${alarmName}`)).toBe(true);
          expect(Buffer.from(page.body, 'utf8').toString('utf8')).toBe(page.body);
          expect(() => encodeURIComponent(page.body)).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });
});
