import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { registry } from '#functions/index.ts';
import { BackupFailureEvent } from '#functions/onBackupFailure/schema.ts';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture, readFixtureText } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { backupJobFailure } from '../support/events/index.ts';
import { ROUTED_BUT_REFUSED, UNROUTED } from '../support/unrouted.ts';

/**
 * AWS's own documented samples (events/<function>/aws-docs/, provenance in each events/<function>/README.md)
 * against the functions they are routed to. Where a sample and a schema disagree, the schema is wrong.
 */

const samplesOf = (fn: string) => listFixtures().filter((f) => f.startsWith(`${fn}/aws-docs/`));
/** A schedule rule invokes its function with the event, though no event pattern routes it. */
const bySchedule = (f: string) => loadFixture(f)['detail-type'] === 'Scheduled Event';
/** The samples a function receives: routed by its rule, or delivered by its schedule. */
const routedSamples = registry.flatMap(({ name }) =>
  samplesOf(name)
    .filter((f) => !(f in UNROUTED) || bySchedule(f))
    .map((f) => [f, name] as const),
);

/** What the schema says about an event: `accepted`, or each issue as `path: message`. */
async function schemaVerdict(fn: string, event: unknown): Promise<string> {
  const module = (await import(`#functions/${fn}/spec.ts`)) as Record<string, { schema: z.ZodType }>;
  const schema = module[fn]?.schema;
  if (!schema) throw new Error(`functions/${fn}/spec.ts exports no spec named ${fn}`);
  const parsed = schema.safeParse(event);
  return parsed.success
    ? 'accepted'
    : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

describe("AWS's documented samples", () => {
  it('has a documented sample for every registered function an AWS event invokes', () => {
    // Act: a function invoked by hand (approveAction) receives a person's input, no AWS event.
    const without = registry
      .filter(({ name, deployment }) => !('manual' in deployment.trigger) && samplesOf(name).length === 0)
      .map(({ name }) => name);
    // Assert
    expect(without).toEqual([]);
  });

  it.each(routedSamples)(
    'accepts %s, a sample its rule or schedule delivers, in the schema of %s',
    async (fixture, fn) => {
      // Act
      const verdict = await schemaVerdict(fn, loadFixture(fixture));
      // Assert
      expect(verdict).toBe(ROUTED_BUT_REFUSED[fixture] ?? 'accepted');
    },
  );
});

// onBackupFailure end to end: every AWS client mocked.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const ssm = aws.of(SSMClient);
const backup = aws.of(BackupClient);
const ec2 = aws.of(EC2Client);
let handler: typeof import('#functions/onBackupFailure/handler.ts').handler;
let onCloudTrail: typeof import('#functions/onCloudTrail/handler.ts').handler;

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:pages';
  ({ handler } = await import('#functions/onBackupFailure/handler.ts'));
  ({ handler: onCloudTrail } = await import('#functions/onCloudTrail/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'true';
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // AWS no longer knows the documented jobs: nothing to read back, so nothing is retried.
  backup.on(DescribeBackupJobCommand).resolves({});
  backup.on(StartBackupJobCommand).resolves({ BackupJobId: 'retry-job-1' });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
});

// AWS's samples come from their own account and region: the function runs there, as it would in that account.
const invoke = (event: { account: string; region: string }) =>
  handler(event as never, makeContext(undefined, { account: event.account, region: event.region }));
const page = () => {
  const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
  return { subject: input?.Subject ?? '', body: input?.Message ?? '' };
};

describe("onBackupFailure: AWS Backup's documented samples", () => {
  const routedBackup = routedSamples.filter(([, fn]) => fn === 'onBackupFailure').map(([f]) => f);

  it.each(routedBackup)('pages %s once, naming the job', async (fixture) => {
    // Arrange
    const event = loadFixture<{ account: string; region: string; detail: Record<string, string> }>(fixture);
    const jobId = event.detail.backupJobId ?? event.detail.copyJobId ?? event.detail.restoreJobId;
    // Act
    await invoke(event);
    // Assert
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(page().subject).toMatch(
      /^\[HIGH\] backup\.job: (Backup|Copy|Restore) job (FAILED|ABORTED|EXPIRED)/,
    );
    expect(page().body).toContain(jobId);
  });

  it('pages an expired backup job in an AWS-managed vault of an AWS-managed plan, naming both', async () => {
    // Act
    await invoke(loadFixture('onBackupFailure/aws-docs/backup-job-expired.json'));
    // Assert
    expect(page().subject).toContain(
      'Backup job EXPIRED: type resource-id (vault aws/backup/AutomatedBackupVaultDel2)',
    );
    expect(page().body).toContain(
      'arn:aws:backup:us-west-2:111122223333:backup-plan:aws/efs/414a5bd4-f880-47ad-95f3-f085108a4c3b',
    );
    expect(page().body).toContain('3eb0017c-f262-4211-a802-302cebb11dc2');
  });

  it('pages a failed copy job whose destination recovery point is an empty object', async () => {
    // Act
    await invoke(loadFixture('onBackupFailure/aws-docs/copy-job-failed.json'));
    // Assert
    expect(page().subject).toContain('Copy job FAILED: EC2 i-0515aee7de03f58e1');
    expect(page().body).toContain('Access denied exception while trying to list tags');
  });

  it('names the recovery point a failed restore job was restoring, which the event gives only in resources', async () => {
    // Act
    await invoke(loadFixture('onBackupFailure/aws-docs/restore-job-failed.json'));
    // Assert
    expect(page().subject).toContain('Restore job FAILED: EC2 ami-12b3456dfb7f8cf90');
    expect(page().body).toContain('arn:aws:ec2:us-west-2::image/ami-12b3456dfb7f8cf90');
  });
});

describe('onBackupFailure schema: the bounds the documented samples do not loosen', () => {
  const copyFailed = () =>
    loadFixture<{ detail: Record<string, unknown> }>('onBackupFailure/aws-docs/copy-job-failed.json');
  const refusal = (event: unknown) => {
    const parsed = BackupFailureEvent.safeParse(event);
    return parsed.success ? 'accepted' : parsed.error.issues.map((i) => i.path.join('.')).join(', ');
  };

  it("refuses the page's sample as published, naming its 13-digit account id", () => {
    // Arrange
    const asPublished: unknown = JSON.parse(
      readFixtureText('onBackupFailure/aws-docs/backup-job-expired.json'),
    );
    // Act
    const verdict = refusal(asPublished);
    // Assert
    expect(verdict).toMatch(/^account\b/);
  });

  it.each([
    ['a vault of another owner than AWS', 'other/backup/vault'],
    ['a path that climbs', 'aws/../vault'],
    ['an AWS-managed prefix without a name', 'aws/backup/'],
    ['a name of 51 characters', `aws/backup/${'v'.repeat(51)}`],
  ])('refuses a vault name that is %s', (_, name) => {
    // Arrange
    const event = backupJobFailure('aws-docs/backup-job-expired', { backupVaultName: name });
    // Act
    const verdict = refusal(event);
    // Assert
    expect(verdict).toBe('detail.backupVaultArn, detail.backupVaultName');
  });

  it.each([
    ['an object with content', { arn: 'arn:aws:backup:us-west-2:111122223333:recovery-point:x' }],
    ['text that is not an ARN', 'recovery-point-1'],
    ['an array', []],
  ])('refuses a destination recovery point that is %s', (_, value) => {
    // Arrange
    const event = copyFailed();
    event.detail.destinationRecoveryPointArn = value;
    // Act
    const verdict = refusal(event);
    // Assert
    expect(verdict).toBe('detail.destinationRecoveryPointArn');
  });
});

describe("onCloudTrail: the CloudTrail user guide's documented records", () => {
  const routedRecords = routedSamples.filter(([, fn]) => fn === 'onCloudTrail').map(([f]) => f);
  // Each record runs in its own account and region (a sign-in's region is where CloudTrail logged it).
  const run = async (fixture: string) => {
    const event = loadFixture<{ account: string; region: string }>(fixture);
    const context = makeContext('ops-autopilot-dev-onCloudTrail', {
      account: event.account,
      region: event.region,
    });
    const result = (await onCloudTrail(event as never, context)) as PipelineResult<{
      detection?: string;
      action: string;
    }>;
    return { result, pages: sns.commandCalls(PublishCommand).map((c) => c.args[0].input) };
  };

  it('delivers the sign-in, root and CreateUser records, and lists every other record as unrouted', () => {
    // Assert
    expect(routedRecords).toEqual([
      'onCloudTrail/aws-docs/records/iam-create-user.json',
      'onCloudTrail/aws-docs/records/iam-user-sign-in-failure.json',
      'onCloudTrail/aws-docs/records/iam-user-sign-in-with-mfa.json',
      'onCloudTrail/aws-docs/records/iam-user-sign-in-without-mfa.json',
      'onCloudTrail/aws-docs/records/root-mfa-changed.json',
      'onCloudTrail/aws-docs/records/root-password-changed.json',
      'onCloudTrail/aws-docs/records/root-sign-in-failure.json',
      'onCloudTrail/aws-docs/records/root-sign-in-with-mfa.json',
      'onCloudTrail/aws-docs/records/root-sign-in-without-mfa.json',
    ]);
  });

  it.each([
    ['root-sign-in-without-mfa', 'root-console-sign-in', 'the root user signed in to the console'],
    ['root-sign-in-with-mfa', 'root-console-sign-in', 'the root user signed in to the console'],
    [
      'iam-user-sign-in-without-mfa',
      'console-sign-in-without-mfa',
      'IAM user anaya signed in to the console without MFA',
    ],
  ])('pages %s once as %s', async (name, detection, what) => {
    // Act
    const { result, pages } = await run(`onCloudTrail/aws-docs/records/${name}.json`);
    // Assert
    expect(result.findings).toEqual({ detection, action: 'page' });
    expect(pages).toHaveLength(1);
    expect(pages[0]?.Subject).toContain(what);
    // The page says where: the record's own account and region, as the envelope carries them.
    const { account, region } = loadFixture<{ account: string; region: string }>(
      `onCloudTrail/aws-docs/records/${name}.json`,
    );
    expect(pages[0]?.Message).toContain(`Account ${account}, region ${region}`);
  });

  it.each([
    ['iam-user-sign-in-failure', 'console-sign-in-failure'],
    ['root-sign-in-failure', 'root-activity'],
    ['root-mfa-changed', 'root-activity'],
    ['root-password-changed', 'root-activity'],
  ])('records %s as %s and pages no one', async (name, detection) => {
    // Act
    const { result, pages } = await run(`onCloudTrail/aws-docs/records/${name}.json`);
    // Assert
    expect(result.findings).toEqual({ detection, action: 'record' });
    expect(pages).toEqual([]);
  });

  it('neither pages nor records an IAM user who signed in with MFA', async () => {
    // Act
    const { result, pages } = await run('onCloudTrail/aws-docs/records/iam-user-sign-in-with-mfa.json');
    // Assert
    expect(result.findings).toEqual({ action: 'none' });
    expect(pages).toEqual([]);
  });
});
