import { BackupClient, CreateBackupVaultCommand } from '@aws-sdk/client-backup';
import { seedFleet } from './fleet.ts';

/**
 * What the sample events of the README's `sls invoke local` lines name, seeded in the emulator so each
 * invoke reaches a decision (`npm run local:up`; the demo records the same execution):
 *
 * - onAlarm's metric-alarm.json: instance i-0abc1234def567890, opted in to remediation (its id is given
 *   to moto by the launcher in ./moto.ts, since RunInstances takes no id), busy, so never idle;
 * - stopIdleInstances' manual-dry-run.json: a small opted-in fleet, two instances idle for 48 hours;
 * - onRunbookResult's execution-failed.json: execution 333ba70b-..., recorded as onAlarm records the
 *   runbooks it starts (moto has no SSM Automation);
 * - onBackupFailure's backup-job-failed.json: its vault (moto has vaults, not backup jobs: the job stays
 *   unreadable, and the page says so in one line).
 */

/** The instance onAlarm's sample alarm is about (events/onAlarm/metric-alarm.json). */
export const SAMPLE_ALARM_INSTANCE = 'i-0abc1234def567890';
/** The execution onRunbookResult's samples report on (AWS's sample event). */
export const SAMPLE_EXECUTION = '333ba70b-2333-48db-b17e-a5e69c6f4d1c';
/** The vault and region of onBackupFailure's sample failed job. */
const SAMPLE_BACKUP_VAULT = { name: '9ab3e749-82c6-4342-9320-5edbf4918b86', region: 'us-east-1' };

const HOURS = 48;

/** The alarm's instance first (the launcher hands out the sample id to the first instance), then the fleet. */
export async function seedSampleInstances(): Promise<{ alarmInstance: string; idle: string[] }> {
  const quietNet = { hours: HOURS, value: 40_000 };
  const fleet = await seedFleet([
    {
      name: 'alarm instance',
      tags: { 'ops:auto-remediate': 'true', Name: 'web-1' },
      cpu: { hours: HOURS, value: 60 },
      network: { hours: HOURS, value: 90_000_000 },
      perReservation: 1,
    },
  ]);
  const rest = await seedFleet([
    {
      name: 'idle',
      count: 2,
      tags: { 'ops:auto-stop': 'true', Name: 'build-box' },
      instanceType: 't3.medium',
      cpu: { hours: HOURS, value: 1.2 },
      network: quietNet,
    },
    {
      name: 'busy',
      tags: { 'ops:auto-stop': 'true', Name: 'api' },
      cpu: { hours: HOURS, value: 55 },
      network: { hours: HOURS, value: 90_000_000 },
    },
  ]);
  return { alarmInstance: fleet.ids['alarm instance']?.[0] ?? '', idle: rest.ids.idle ?? [] };
}

/**
 * The sample execution, recorded as onAlarm would have after starting it for a paged alarm, so the
 * failure samples escalate and the success notifies. Needs STAGE and STATE_TABLE_NAME set.
 */
export async function seedSampleExecution(): Promise<string> {
  const { recordAutomationExecution, linkAutomationPage } = await import(
    '#shared/state/automationExecutions.ts'
  );
  const { pageIdOf } = await import('#shared/domain/page.ts');
  const alarm = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-status-check';
  await recordAutomationExecution({
    executionId: SAMPLE_EXECUTION,
    document: 'runcommand1',
    rule: 'restart-unresponsive-instance',
    incidentKey: alarm,
    correlationId: 'sample-alarm-delivery',
    account: '123456789012',
    region: 'us-east-1',
    signal: {
      kind: 'alarm.state-change',
      title: 'web-status-check is ALARM',
      summary:
        'Threshold Crossed: 1 out of the last 1 datapoints [1.0] was greater than the threshold (0.0).',
      occurredAt: '2016-11-29T19:43:00.000+0000',
      resource: { type: 'cloudwatch alarm', id: 'web-status-check', arn: alarm },
      links: [],
    },
    severity: 'critical',
    startedAt: Math.floor(Date.parse('2016-11-29T19:43:20Z') / 1000),
  });
  const pageId = pageIdOf(alarm, 'incident', 'sample-alarm-delivery');
  await linkAutomationPage(SAMPLE_EXECUTION, pageId, 'critical');
  return pageId;
}

/** The sample failed job's vault, in its region (moto keeps vaults; it has no backup jobs). */
export async function seedSampleBackupVault(): Promise<void> {
  await new BackupClient({ region: SAMPLE_BACKUP_VAULT.region }).send(
    new CreateBackupVaultCommand({ BackupVaultName: SAMPLE_BACKUP_VAULT.name }),
  );
}
