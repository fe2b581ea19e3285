import {
  BackupClient,
  DescribeBackupJobCommand,
  type DescribeBackupJobCommandOutput,
  StartBackupJobCommand,
} from '@aws-sdk/client-backup';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '#functions/index.ts';
import { loadAwsClients } from '../../tools/awsClients.ts';
import { sendStateTableCallsOneAtATime } from '../../tools/local/emulator.ts';
import { loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { seedFleet } from '../../tools/local/fleet.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { seededRandom } from '../../tools/local/random.ts';
import { launchInstances, stack, useEmulatedStack } from '../support/emulator.ts';
import { backupJobFailure, cloudTrailRecord, costAnomaly } from '../support/events/index.ts';

/**
 * Every function against moto, each distinct incident's event delivered 1 to 5 times (a seeded count),
 * the copies of some at once and of others in a row, the incidents of a test all at once: exactly one
 * page and one action per incident.
 *
 * What this proves and what it does not: the state-table calls of this process go to moto one at a
 * time (sendStateTableCallsOneAtATime), because moto applies conditional writes non-atomically under
 * concurrent requests (two pages in 5 of 9 concurrent runs here without it). Deliveries still
 * interleave freely between those calls, so every ordering of claims, reads and publishes between
 * duplicates is exercised; each single write is taken as atomic, which is DynamoDB's own guarantee
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate)
 * and is not tested here.
 */

// moto has no SSM Automation: StartAutomationExecution is mocked, everything else is moto.
const ssm = mockClient(SSMClient);
// moto has no AWS Backup jobs either: Backup answers from `jobs`, as AWS would.
const backup = mockClient(BackupClient);
/** The jobs AWS Backup knows, by id: what DescribeBackupJob answers. */
const jobs = new Map<string, DescribeBackupJobCommandOutput>();
const STACK = 'ops-autopilot-duplicates';
const handlers: Record<string, LambdaHandler> = {};
/** Mutating calls the functions make through their clients (the state table and the pages apart). */
const mutations: { name: string; input: Record<string, unknown> }[] = [];
const named = (name: string) => mutations.filter((m) => m.name === name);
/** Every instance id in a StopInstances call, once per call that named it. */
const stopInstanceIdsCalled = () => named('StopInstances').flatMap((m) => m.input.InstanceIds as string[]);
const READS = /^(Describe|Get|List|Lookup|Head)/;
/** Writes to the stack's own state table and topics: counted by what they make (pages), not here. */
const STACK_OWN_CLIENTS = new Set(['shared/aws/dynamodb.ts', 'shared/aws/sns.ts']);

const random = seededRandom(20_261_122);

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  for (const name of ['onAlarm', 'stopIdleInstances', 'onCloudTrail', 'onCostAnomaly', 'onBackupFailure']) {
    const { registry } = await import('#functions/index.ts');
    const entry = registry.find((e) => e.name === name);
    if (entry) handlers[name] = await entry.loadHandler();
  }
  await sendStateTableCallsOneAtATime();
  // Every client the functions use (found, not listed), but the state table's and the pages' own.
  const clients = (await loadAwsClients())
    .filter(({ module }) => !STACK_OWN_CLIENTS.has(module))
    // One middleware shape for every client: only the command's name and input are read.
    .map(({ client }) => client as unknown as EC2Client);
  for (const client of clients) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName).replace(/Command$/, '');
        if (!READS.test(name)) mutations.push({ name, input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize', name: 'countMutationsForTests' },
    );
  }
});

beforeEach(async () => {
  ssm.reset();
  // The kill switch is read from moto's SSM (absent: the stage decides); only Automation is mocked.
  killSwitchFromEmulator(ssm);
  let execution = 0;
  ssm
    .on(StartAutomationExecutionCommand)
    .callsFake(async () => ({ AutomationExecutionId: `exec-${++execution}` }));
  jobs.clear();
  backup.reset();
  backup.on(DescribeBackupJobCommand).callsFake(async (input: { BackupJobId: string }) => {
    const job = jobs.get(input.BackupJobId);
    if (!job) throw Object.assign(new Error('no such job'), { name: 'ResourceNotFoundException' });
    return job;
  });
  backup.on(StartBackupJobCommand).callsFake(async (input: { IdempotencyToken: string }) => ({
    BackupJobId: `retry-${input.IdempotencyToken}`,
  }));
  mutations.length = 0;
});

interface Delivered {
  copies: number;
  together: boolean;
}

/**
 * Delivers `event` to `fn` 1 to 5 times, at once or in a row. A copy refused because another holds the
 * event is delivered again once the copies running then have finished, as Lambda retries it later.
 */
async function deliverRepeatedly(fn: string, event: unknown): Promise<Delivered> {
  const handler = handlers[fn];
  if (!handler) throw new Error(`no handler ${fn}`);
  const copies = 1 + Math.floor(random() * 5);
  const together = copies > 1 && random() < 0.5;
  /** The copies of this event in the handler right now. */
  const running = new Set<Promise<unknown>>();
  const invoke = () => {
    const run = handler(structuredClone(event), makeContext(`ops-autopilot-dev-${fn}`));
    running.add(run);
    const forget = () => running.delete(run);
    run.then(forget, forget);
    return run;
  };
  const retried = async (): Promise<void> => {
    try {
      await invoke();
    } catch (error) {
      if ((error as Error).name !== 'IdempotencyAlreadyInProgressError') throw error;
      // The latch: the copy holding the event is one of those running; retry when they have ended.
      if (running.size === 0) throw new Error(`${fn}: refused as in progress, but no copy is running`);
      await Promise.allSettled([...running]);
      await retried();
    }
  };
  if (together) await Promise.all(Array.from({ length: copies }, retried));
  else for (let k = 0; k < copies; k++) await retried();
  return { copies, together };
}

/** The pages whose body names `marker`. */
const pagesNaming = (pages: { body: string }[], marker: string) =>
  pages.filter((p) => p.body.includes(marker));

const runningInstances = launchInstances;

describe('duplicate and concurrent deliveries against the emulator: one page and one action per incident', () => {
  it('onAlarm: 6 alarms, each delivered 1 to 5 times, start 6 runbooks and page 6 times', async () => {
    // Arrange: each alarm on its own opted-in instance.
    const instances = await runningInstances(6, { 'ops:auto-remediate': 'true' });
    const events = instances.map((id, k) =>
      makeAlarmEvent({ alarmName: `web-cpu-dup-${k}`, dimensions: { InstanceId: id } }),
    );
    // Act
    const delivered = await Promise.all(events.map((e) => deliverRepeatedly('onAlarm', e)));
    // Assert
    expect(delivered.some((d) => d.together)).toBe(true);
    expect(delivered.some((d) => d.copies > 1 && !d.together)).toBe(true);
    const pages = await stack.readPages();
    for (const k of events.keys()) expect(pagesNaming(pages, `web-cpu-dup-${k} `)).toHaveLength(1);
    expect(pages).toHaveLength(6);
    const started = ssm
      .commandCalls(StartAutomationExecutionCommand)
      .map((c) => (c.args[0].input.Parameters?.InstanceId ?? [])[0]);
    expect(started.sort()).toEqual([...instances].sort());
  });

  it('stopIdleInstances: a scheduled run delivered 1 to 5 times stops each idle instance once and pages once', async () => {
    // Arrange
    const fleet = await seedFleet([
      {
        name: 'idle',
        count: 3,
        tags: { 'ops:auto-stop': 'true' },
        cpu: { hours: 24, value: 1 },
        network: { hours: 24, value: 20_000 },
      },
    ]);
    const scheduled = loadFixture('stopIdleInstances/scheduled-event.json');
    // Act
    await deliverRepeatedly('stopIdleInstances', scheduled);
    await deliverRepeatedly('stopIdleInstances', scheduled);
    // Assert
    const idle = [...(fleet.ids.idle ?? [])].sort();
    expect(stopInstanceIdsCalled().sort()).toEqual(idle);
    expect((await stoppedInstances()).sort()).toEqual(idle);
    expect(await stack.readPages()).toHaveLength(1);
  });

  it('stopIdleInstances: a manual run repeated 1 to 5 times at once or in a row stops each idle instance once and pages once', async () => {
    // Arrange: a manual invoke has no event id, so repeats are not deduplicated by id: the stop list and
    // the hourly budget must keep them from acting twice.
    const fleet = await seedFleet([
      {
        name: 'idle',
        count: 2,
        tags: { 'ops:auto-stop': 'true' },
        cpu: { hours: 24, value: 1 },
        network: { hours: 24, value: 20_000 },
      },
    ]);
    // Act
    await deliverRepeatedly('stopIdleInstances', {});
    await deliverRepeatedly('stopIdleInstances', {});
    // Assert
    const idle = [...(fleet.ids.idle ?? [])].sort();
    expect(stopInstanceIdsCalled().sort()).toEqual(idle);
    expect((await stoppedInstances()).sort()).toEqual(idle);
    expect(await stack.readPages()).toHaveLength(1);
  });

  it('onCloudTrail, remediation live: 4 security groups opened to the world, each record delivered 1 to 5 times, are revoked once and paged once each', async () => {
    // Arrange
    const ec2 = new EC2Client({});
    const groups: string[] = [];
    for (let k = 0; k < 4; k++) {
      const { GroupId } = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: `dup-${k}`, Description: 'duplicates test' }),
      );
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          ],
        }),
      );
      groups.push(GroupId as string);
    }
    const records = groups.map((groupId) =>
      cloudTrailRecord('security-group-open-world', {
        id: crypto.randomUUID(),
        eventID: crypto.randomUUID(),
        withRequestParameters: { groupId },
      }),
    );
    // Act
    await Promise.all(records.map((r) => deliverRepeatedly('onCloudTrail', r)));
    // Assert
    expect(
      named('RevokeSecurityGroupIngress')
        .map((m) => m.input.GroupId)
        .sort(),
    ).toEqual([...groups].sort());
    const seen = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groups }));
    expect(seen.SecurityGroups?.flatMap((g) => g.IpPermissions ?? [])).toEqual([]);
    const pages = await stack.readPages();
    for (const groupId of groups) expect(pagesNaming(pages, groupId)).toHaveLength(1);
    expect(pages).toHaveLength(4);
  });

  it('onCostAnomaly: 5 anomalies, each delivered 1 to 5 times, page 5 times and act on nothing', async () => {
    // Arrange
    const anomalies = Array.from({ length: 5 }, () =>
      costAnomaly('anomaly-detected', { id: crypto.randomUUID(), anomalyId: crypto.randomUUID() }),
    );
    // Act
    await Promise.all(anomalies.map((a) => deliverRepeatedly('onCostAnomaly', a)));
    // Assert
    const pages = await stack.readPages();
    for (const a of anomalies) expect(pagesNaming(pages, a.detail.anomalyId)).toHaveLength(1);
    expect(pages).toHaveLength(5);
    expect(mutations).toEqual([]);
  });

  it('onBackupFailure, retry live: 4 failed backup jobs, each delivered 1 to 5 times, are retried once and paged once each', async () => {
    // Arrange: four jobs a backup plan made, of one existing volume (moto's), failed.
    const { VolumeId } = await new EC2Client({}).send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }),
    );
    const resourceArn = `arn:aws:ec2:us-east-1:123456789012:volume/${VolumeId}`;
    const failures = Array.from({ length: 4 }, (_, k) => {
      const raw = backupJobFailure('backup-job-failed-ebs', {
        id: crypto.randomUUID(),
        backupJobId: `dup-job-${k}`,
        resourceArn,
      });
      jobs.set(`dup-job-${k}`, {
        $metadata: {},
        AccountId: '123456789012',
        BackupJobId: `dup-job-${k}`,
        State: 'FAILED',
        StatusMessage: raw.detail.statusMessage,
        BackupVaultName: 'Default',
        ResourceArn: resourceArn,
        ResourceType: 'EBS',
        IamRoleArn: 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole',
        CreatedBy: { BackupPlanId: 'plan-1', BackupRuleId: 'rule-1' },
      });
      return raw;
    });
    // Act
    await Promise.all(failures.map((f) => deliverRepeatedly('onBackupFailure', f)));
    // Assert
    const retried = backup.commandCalls(StartBackupJobCommand).map((c) => c.args[0].input.IdempotencyToken);
    expect(retried).toHaveLength(4);
    expect(new Set(retried).size).toBe(4);
    const pages = await stack.readPages();
    for (let k = 0; k < 4; k++) expect(pagesNaming(pages, `jobId: dup-job-${k}`)).toHaveLength(1);
    expect(pages).toHaveLength(4);
  });
});

async function stoppedInstances(): Promise<string[]> {
  const res = await new EC2Client({}).send(new DescribeInstancesCommand({}));
  return (res.Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .filter((i) => i.State?.Name === 'stopped')
    .map((i) => i.InstanceId as string);
}

describe("Powertools' own warnings", () => {
  it('are not printed for repeated and concurrent deliveries, even at WARN', async () => {
    // Arrange: Powertools used to print "Dimension ... has already been added" for concurrent
    // invocations and "No application metrics to publish" for a repeat answered from the store.
    const { logger } = await import('#shared/runtime/powertools.ts');
    logger.setLogLevel('WARN');
    const printed: string[] = [];
    const keep = (chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep);
    const [instance] = await runningInstances(1, { 'ops:auto-remediate': 'true' });
    const event = makeAlarmEvent({ alarmName: 'web-cpu-quiet', dimensions: { InstanceId: instance ?? '' } });
    const invoke = () => (handlers.onAlarm as LambdaHandler)(structuredClone(event), makeContext());
    // Act
    try {
      await Promise.allSettled([invoke(), invoke(), invoke()]);
      await invoke();
    } finally {
      out.mockRestore();
      err.mockRestore();
      logger.setLogLevel('SILENT');
    }
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
    const warnings = printed.filter((line) => /has already been added|No application metrics/.test(line));
    expect(warnings).toEqual([]);
  });
});
