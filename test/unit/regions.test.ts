import { describe, expect, it } from 'vitest';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmSignal } from '#functions/onAlarm/signal.ts';
import { detect } from '#functions/onCloudTrail/detections.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { eventHistoryLinks } from '#functions/onCloudTrail/signal.ts';
import { IdleScanEvent } from '#functions/stopIdleInstances/schema.ts';
import { resolveIdleRun } from '#functions/stopIdleInstances/settings.ts';
import { idleScanSignal } from '#functions/stopIdleInstances/signal.ts';
import { consoleUrl, partitionOf } from '#shared/domain/partition.ts';
import { decideFleet, summarizeSavings } from '#shared/idle/fleet.ts';
import { estimateMonthlySavingUsd, priceBasis } from '#shared/idle/pricing.ts';
import { IdleStopSettings } from '#shared/idle/stageSettings.ts';
import { alarmStateChange, cloudTrailRecord, scheduledScan } from '../support/events/index.ts';

/** The documented metric alarm, moved to `region` (its ARN in that region's partition). */
const alarmIn = (region: string) =>
  AlarmEvent.parse(alarmStateChange('metric-alarm', { alarmName: 'api-5xx', region }));

describe('console links and ARNs follow the partition of the region', () => {
  it.each([
    [
      'us-east-1',
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/api-5xx',
    ],
    ['cn-north-1', 'https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/api-5xx'],
    [
      'us-gov-west-1',
      'https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#alarmsV2:alarm/api-5xx',
    ],
  ])("links an alarm page in %s to that partition's console", (region, url) => {
    // Arrange
    const event = alarmIn(region);
    // Act
    const signal = alarmSignal(event);
    // Assert
    expect(signal.links).toEqual([{ label: 'Alarm', url }]);
    expect(signal.incidentKey).toBe(
      `arn:${partitionOf(region)}:cloudwatch:${region}:123456789012:alarm:api-5xx`,
    );
  });

  it("links a CloudTrail record in cn-north-1 and us-gov-west-1 to that partition's event history", () => {
    // Arrange
    const id = 'd9a1d3a4-0000-4000-8000-000000000001';
    // Act
    const cn = eventHistoryLinks('cn-north-1', id);
    const gov = eventHistoryLinks('us-gov-west-1', id);
    // Assert
    expect(cn[0]?.url).toBe(`https://console.amazonaws.cn/cloudtrail/home?region=cn-north-1#/events/${id}`);
    expect(gov[0]?.url).toBe(
      `https://console.amazonaws-us-gov.com/cloudtrail/home?region=us-gov-west-1#/events/${id}`,
    );
  });

  it('gives an isolated partition no console link rather than a commercial one', () => {
    // Arrange
    const region = 'us-iso-east-1';
    // Act
    const url = consoleUrl(region, 'ec2');
    // Assert
    expect(url).toBeUndefined();
  });

  it("names a public bucket in us-gov-west-1 with an aws-us-gov ARN, and an idle scan's link there", () => {
    // Arrange
    const event = CloudTrailEvent.parse(
      cloudTrailRecord('s3-bucket-policy-public', { region: 'us-gov-west-1' }),
    );
    const scan = IdleScanEvent.parse(scheduledScan('scheduled-event', { region: 'cn-north-1' }));
    const run = resolveIdleRun(scan, { dryRun: true, idleStop: IdleStopSettings.parse({}) });
    if (!run.ok) throw new Error('fixture run refused');
    // Act
    const [finding] = detect(event, DETECTION_NAMES);
    const signal = idleScanSignal(scan, run.run, {
      requestId: 'r',
      account: '123456789012',
      region: 'cn-north-1',
    });
    // Assert
    expect(finding?.resource?.arn).toMatch(/^arn:aws-us-gov:s3:::/);
    expect(signal.links[0]?.url).toBe(
      'https://console.amazonaws.cn/ec2/home?region=cn-north-1#Instances:tag:ops:stopped-by=ops-autopilot',
    );
  });
});

describe('savings are priced for the region, with the basis said', () => {
  it('prices a t3.large in eu-west-1 above us-east-1, saying the region and the basis', () => {
    // Arrange
    const type = 't3.large';
    // Act
    const virginia = estimateMonthlySavingUsd(type, 'us-east-1');
    const ireland = estimateMonthlySavingUsd(type, 'eu-west-1');
    const basis = priceBasis('eu-west-1');
    // Assert
    expect(virginia).toBe(60.74);
    expect(ireland).toBe(67.42);
    expect(basis.label).toBe(
      "estimate for eu-west-1, basis: us-east-1 on-demand Linux list prices (2025) x 1.11 (eu-west-1's m5.large ratio)",
    );
  });

  it('gives no dollar figure in cn-north-1 (priced in CNY) and says why', () => {
    // Arrange
    const region = 'cn-north-1';
    // Act
    const saving = estimateMonthlySavingUsd('m5.large', region);
    // Assert
    expect(saving).toBe('unknown');
    expect(priceBasis(region).label).toContain('CNY');
  });

  it('labels a region without a known ratio as priced at us-east-1 prices', () => {
    // Arrange
    const region = 'mx-central-1';
    // Act
    const basis = priceBasis(region);
    // Assert
    expect(estimateMonthlySavingUsd('m5.large', region)).toBe(70.08);
    expect(basis.label).toContain(`no ratio known for ${region}`);
  });

  it("prices an idle fleet's stops and capped instances in the fleet's region", () => {
    // Arrange
    const hours = Array.from({ length: 24 }, (_, k) => 1_750_500_000 - (k + 1) * 3600);
    const quiet = { timestamps: hours, values: hours.map(() => 1) };
    const box = (instanceId: string) => ({
      instanceId,
      instanceType: 'm5.large',
      state: 'running',
      tags: { 'ops:auto-stop': 'true' },
      rootDeviceType: 'ebs',
    });
    const ids = ['i-0000000000000000a', 'i-0000000000000000b'];
    // Act
    const verdicts = decideFleet({
      instances: ids.map(box),
      cpu: new Map(ids.map((id) => [id, quiet])),
      netIn: new Map(ids.map((id) => [id, quiet])),
      netOut: new Map(ids.map((id) => [id, quiet])),
      policy: {
        lookbackHours: 24,
        cpuThresholdPercent: 5,
        networkThresholdBytesPerHour: 5_000_000,
        minCoverage: 0.9,
      },
      scope: 'opt-in',
      maxStopsPerHour: 1,
      region: 'ap-northeast-1',
    });
    const summary = summarizeSavings(verdicts, 'ap-northeast-1');
    // Assert: m5.large $0.096/h x 1.29 x 730 h
    expect(summary.estimatedMonthlySavingUsd).toBe(90.4);
    expect(summary.cappedMonthlySavingUsd).toBe(90.4);
  });
});
