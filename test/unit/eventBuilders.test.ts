import { describe, expect, it } from 'vitest';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmSignal } from '#functions/onAlarm/signal.ts';
import { BackupFailureEvent } from '#functions/onBackupFailure/schema.ts';
import { jobOf } from '#functions/onBackupFailure/signal.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { cloudTrailScope } from '#functions/onCloudTrail/signal.ts';
import { CostAnomalyEvent } from '#functions/onCostAnomaly/schema.ts';
import { costAnomalyFacts } from '#functions/onCostAnomaly/signal.ts';
import { RunbookResultEvent } from '#functions/onRunbookResult/schema.ts';
import { runbookResultFacts } from '#functions/onRunbookResult/signal.ts';
import { IdleScanEvent } from '#functions/stopIdleInstances/schema.ts';
import { readFixtureText } from '../../tools/local/events.ts';
import {
  alarmStateChange,
  anotherDeliveryOf,
  anotherRecordOf,
  automationExecutionStatusChange,
  backupJobFailure,
  cloudTrailRecord,
  costAnomaly,
  scheduledScan,
} from '../support/events/index.ts';

const EXECUTION = '0b5c3a9e-8f1d-4e27-b6a0-3c9d2e7f4a18';

describe('event builders: each builds an event its function accepts, from the named fixture', () => {
  it.each([
    ['alarmStateChange', () => AlarmEvent.parse(alarmStateChange())],
    [
      'alarmStateChange (contributor fixture)',
      () => AlarmEvent.parse(alarmStateChange('multi-time-series-contributor-alarm')),
    ],
    ['cloudTrailRecord', () => CloudTrailEvent.parse(cloudTrailRecord())],
    [
      'cloudTrailRecord (a fixture in a folder)',
      () => CloudTrailEvent.parse(cloudTrailRecord('exposure/ebs-snapshot-public')),
    ],
    ['costAnomaly', () => CostAnomalyEvent.parse(costAnomaly())],
    ['backupJobFailure', () => BackupFailureEvent.parse(backupJobFailure())],
    ['automationExecutionStatusChange', () => RunbookResultEvent.parse(automationExecutionStatusChange())],
    ['scheduledScan', () => IdleScanEvent.parse(scheduledScan())],
  ])('%s parses with its function schema', (_builder, parse) => {
    // Act
    const parsed = parse();
    // Assert
    expect(parsed).toMatchObject({ account: '123456789012' });
  });

  it('builds the fixture unchanged when given no override', () => {
    // Act
    const built = cloudTrailRecord('exposure/ebs-snapshot-public');
    // Assert
    expect(built).toEqual(JSON.parse(readFixtureText('onCloudTrail/exposure/ebs-snapshot-public.json')));
  });
});

describe('event builders: an override lands where the function reads it', () => {
  it("renames an alarm and its ARN, so the incident is the new alarm's, in its state", () => {
    // Act
    const event = AlarmEvent.parse(
      alarmStateChange('metric-alarm', { alarmName: 'db-disk-full', state: 'OK', region: 'eu-west-1' }),
    );
    // Assert
    expect(alarmSignal(event).incidentKey).toBe(
      'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:db-disk-full',
    );
    expect(event.detail.state.value).toBe('OK');
  });

  it('makes a contributor event the alarm-level one when the contributor is null', () => {
    // Act
    const event = AlarmEvent.parse(
      alarmStateChange('multi-time-series-contributor-alarm', { contributor: null }),
    );
    // Assert
    expect(event['detail-type']).toBe('CloudWatch Alarm State Change');
    expect(event.detail.alarmContributor).toBeUndefined();
  });

  it("sets a CloudTrail record's parameters over the fixture's and its delivery account where scope reads them", () => {
    // Act
    const record = CloudTrailEvent.parse(
      cloudTrailRecord('security-group-open-world', {
        withRequestParameters: { groupId: 'sg-0fedcba9876543210' },
        recipientAccountId: '999999999999',
      }),
    );
    // Assert
    expect(record.detail.requestParameters).toMatchObject({
      groupId: 'sg-0fedcba9876543210',
      ipPermissions: expect.anything(),
    });
    expect(
      cloudTrailScope(record, { requestId: 'r-1', account: '123456789012', region: 'us-east-1' }),
    ).toEqual([expect.objectContaining({ path: 'detail.recipientAccountId' })]);
  });

  it('makes another record of the same call with new ids and nothing else changed', () => {
    // Arrange
    const first = cloudTrailRecord();
    // Act
    const second = anotherRecordOf(first);
    // Assert
    expect(second.id).not.toBe(first.id);
    expect(second.detail.eventID).not.toBe(first.detail.eventID);
    expect({ ...second, id: first.id, detail: { ...second.detail, eventID: first.detail.eventID } }).toEqual(
      first,
    );
  });

  it('makes another delivery of an event with a new envelope id and nothing else changed', () => {
    // Arrange
    const first = backupJobFailure();
    // Act
    const second = anotherDeliveryOf(first);
    // Assert
    expect(second.id).not.toBe(first.id);
    expect({ ...second, id: first.id }).toEqual(first);
  });

  it("sets an anomaly's id and total impact", () => {
    // Act
    const facts = costAnomalyFacts(
      CostAnomalyEvent.parse(
        costAnomaly('anomaly-detected', { anomalyId: 'a-2', impact: { totalImpact: 42 } }),
      ),
    );
    // Assert
    expect(facts).toMatchObject({ anomalyId: 'a-2', totalImpact: 42 });
  });

  it("sets a backup job's id, resource and vault", () => {
    // Act
    const job = jobOf(
      BackupFailureEvent.parse(
        backupJobFailure('backup-job-failed-ebs', {
          backupJobId: 'job-2',
          resourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0',
          backupVaultName: 'prod-vault',
        }),
      ),
    );
    // Assert
    expect(job).toMatchObject({
      id: 'job-2',
      resourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0',
      vault: { name: 'prod-vault', arn: 'arn:aws:backup:us-east-1:123456789012:backup-vault:prod-vault' },
    });
  });

  it("sets an execution's id and status, and its ARN among the resources", () => {
    // Act
    const event = RunbookResultEvent.parse(
      automationExecutionStatusChange('execution-success', { executionId: EXECUTION, status: 'Failed' }),
    );
    // Assert
    expect(runbookResultFacts(event)).toMatchObject({ executionId: EXECUTION, status: 'Failed' });
    expect(event.resources).toContain(`arn:aws:ssm:us-east-1:123456789012:automation-execution/${EXECUTION}`);
  });

  it('gives a scheduled scan its own id and time', () => {
    // Act
    const event = IdleScanEvent.parse(
      scheduledScan('scheduled-event', { id: 'run-2', time: '2025-06-21T11:00:00Z' }),
    );
    // Assert
    expect(event).toMatchObject({ id: 'run-2', time: '2025-06-21T11:00:00Z' });
  });
});

describe('event builders: the fixture file is never changed', () => {
  it('leaves the fixture as it was after an override and a change to the built event', () => {
    // Arrange
    const before = readFixtureText('onCloudTrail/security-group-open-world.json');
    // Act
    const built = cloudTrailRecord('security-group-open-world', {
      withRequestParameters: { groupId: 'sg-1' },
    });
    built.detail.eventName = 'Changed';
    // Assert
    expect(readFixtureText('onCloudTrail/security-group-open-world.json')).toBe(before);
    expect(cloudTrailRecord('security-group-open-world')).toEqual(JSON.parse(before));
  });

  it('builds a fresh copy each time: changing one event does not change the next', () => {
    // Arrange
    const first = alarmStateChange();
    first.detail.state.reason = 'changed';
    // Act
    const second = alarmStateChange();
    // Assert
    expect(second.detail.state.reason).not.toBe('changed');
  });
});
