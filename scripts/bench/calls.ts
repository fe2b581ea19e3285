/**
 * Calls per typical event: each function's typical delivery, live, against moto through a counting
 * proxy (tools/local/faultProxy.ts with no faults), printed per function beside its floor, the fewest
 * calls the work needs. Every AWS call a delivery makes is counted, by service and
 * operation, as the proxy received it; the calls moto cannot answer (SSM Automation, AWS Backup) are
 * answered in process and counted the same way.
 *
 * Run alone: `tsx scripts/bench/calls.ts`; `npm run bench -- --calls` runs it (in its own process: the
 * clients are built on import against one endpoint).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { registry } from '#functions/index.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { startFaultProxy } from '../../tools/local/faultProxy.ts';
import { DEFAULT_AMI } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';

type Event = Record<string, unknown> & { id: string; detail: Record<string, unknown> };
type Handler = (event: unknown, context: ReturnType<typeof makeContext>) => Promise<unknown>;

export interface CallsRow {
  fn: string;
  event: string;
  /** The floor: the fewest calls the work needs (no read a conditional write re-checks). */
  floor: number;
  calls: number;
  /** `dynamodb PutItem: 1`, ... */
  byOperation: Record<string, number>;
  outcome: string;
}

const ACCOUNT = '123456789012';
const EXECUTION = '333ba70b-2333-48db-b17e-a5e69c6f4d1c';
const BACKUP_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole`;

/** Answers the calls moto lacks, in process, counting each like a proxied call. */
function answerInProcess(
  client: { middlewareStack: { add: (...args: never[]) => void } },
  answers: Record<string, (input: Record<string, unknown>) => unknown>,
  count: (service: string, operation: string) => void,
  service: string,
) {
  const add = client.middlewareStack.add as unknown as (
    mw: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
    options: Record<string, unknown>,
  ) => void;
  add.call(
    client.middlewareStack,
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      const answer = answers[operation];
      if (!answer) return next(args);
      count(service, operation);
      return { output: { $metadata: {}, ...(answer(args.input) as object) }, response: {} };
    },
    { step: 'initialize', name: `benchCallsAnswer${service}` },
  );
}

export async function benchCalls(progress: (line: string) => void): Promise<CallsRow[]> {
  const moto = await startMoto();
  const proxy = await startFaultProxy({ target: moto.endpoint, seed: 1, rate: 0, holdMs: 0, maxFaults: 0 });
  try {
    useMotoEnvironment(proxy.endpoint);
    const stack = await createLocalStack('ops-autopilot-calls');
    Object.assign(process.env, {
      STAGE: 'dev',
      DRY_RUN: 'false',
      STATE_TABLE_NAME: stack.tableName,
      PAGE_TOPIC_ARN: stack.topicArn,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    const { resetConfigForTests } = await import('#shared/config.ts');
    resetConfigForTests();
    const handlers = new Map<string, Handler>();
    for (const entry of registry) handlers.set(entry.name, (await entry.loadHandler()) as Handler);
    const inProcess: string[] = [];
    const count = (service: string, operation: string) => inProcess.push(`${service} ${operation}`);
    const { ssm } = await import('#shared/aws/ssm.ts');
    answerInProcess(
      ssm as never,
      { StartAutomationExecution: () => ({ AutomationExecutionId: EXECUTION }) },
      count,
      'ssm',
    );
    const { backup } = await import('#shared/aws/backup.ts');
    const jobs = new Map<string, Record<string, unknown>>();
    answerInProcess(
      backup as never,
      {
        DescribeBackupJob: (input) => jobs.get(String(input.BackupJobId)) ?? {},
        StartBackupJob: (input) => ({ BackupJobId: `retry-${String(input.IdempotencyToken)}` }),
      },
      count,
      'backup',
    );

    // What the events act on: an opted-in instance, a world-open security group, a volume.
    const ec2 = new EC2Client({});
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: DEFAULT_AMI,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }] },
        ],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? '';
    const { GroupId: groupId = '' } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'calls-bench', Description: 'bench' }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const { VolumeId: volumeId = '' } = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }),
    );

    const rows: CallsRow[] = [];
    const measure = async (fn: string, label: string, floor: number, event: unknown) => {
      const handler = handlers.get(fn);
      if (!handler) throw new Error(`calls: no handler for ${fn}`);
      proxy.calls.length = 0;
      inProcess.length = 0;
      let outcome: string;
      try {
        const result = (await handler(event, makeContext(`ops-autopilot-dev-${fn}`))) as {
          outcomes?: { kind: string; status: string }[];
        };
        outcome = (result.outcomes ?? []).map((o) => `${o.kind} ${o.status}`).join(', ');
      } catch (error) {
        outcome = `${(error as Error).name}: ${(error as Error).message}`;
      }
      const names = [...proxy.calls.map((c) => `${c.service} ${c.operation}`), ...inProcess];
      const byOperation: Record<string, number> = {};
      for (const n of names.sort()) byOperation[n] = (byOperation[n] ?? 0) + 1;
      rows.push({ fn, event: label, floor, calls: names.length, byOperation, outcome });
      progress(`${fn} ${label}: ${names.length} calls`);
    };

    const alarm = makeAlarmEvent({ dimensions: { InstanceId: instanceId } });
    await measure('onAlarm', 'first ALARM with runbook', 10, alarm);
    await measure(
      'onAlarm',
      'OK',
      5,
      makeAlarmEvent({ state: 'OK', dimensions: { InstanceId: instanceId } }),
    );

    const record = loadFixture<Event>('onCloudTrail/security-group-open-world.json');
    (record.detail.requestParameters as Record<string, unknown>).groupId = groupId;
    await measure('onCloudTrail', 'revoke', 7, record);

    await measure('onCostAnomaly', 'page', 6, loadFixture('onCostAnomaly/anomaly-detected.json'));

    const failedJob = loadFixture<Event>('onBackupFailure/backup-job-failed-ebs.json');
    const resourceArn = `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/${volumeId}`;
    failedJob.detail.resourceArn = resourceArn;
    jobs.set(String(failedJob.detail.backupJobId), {
      AccountId: ACCOUNT,
      BackupJobId: failedJob.detail.backupJobId,
      State: 'FAILED',
      StatusMessage: failedJob.detail.statusMessage,
      BackupVaultName: 'Default',
      ResourceArn: resourceArn,
      ResourceType: 'EBS',
      IamRoleArn: BACKUP_ROLE,
      CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' },
    });
    await measure('onBackupFailure', 'with retry', 10, failedJob);

    // The execution the ALARM above started (its record names it), failed: escalated to its page.
    await measure('onRunbookResult', 'escalation', 5, loadFixture('onRunbookResult/execution-failed.json'));
    return rows;
  } finally {
    await proxy.stop();
    await moto.stop();
  }
}

export function printCallsTable(rows: CallsRow[]): void {
  const table = [
    ['function', 'typical event', 'calls', 'floor', 'above floor'],
    ...rows.map((r) => [r.fn, r.event, String(r.calls), String(r.floor), String(r.calls - r.floor)]),
  ];
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  console.log('\nfloor: the fewest calls the work needs; calls: as the counting proxy received them.');
  for (const r of rows) {
    const ops = Object.entries(r.byOperation)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
    console.log(`${r.fn} ${r.event} (${r.outcome}): ${ops}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const rows = await benchCalls((line) =>
    console.log(`[calls ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`),
  );
  console.log('');
  printCallsTable(rows);
}
