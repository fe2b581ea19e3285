import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import {
  sendStateTableCallsOneAtATime,
  setDryRun,
  startEmulatedStack,
  withUnreachableTopic,
} from '../../tools/local/emulator.ts';
import {
  type AlarmEventOptions,
  makeAlarmEvent as alarmEvent,
  loadFixture,
} from '../../tools/local/events.ts';
import { DEFAULT_AMI } from '../../tools/local/fleet.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { createLocalStack, type LocalStack } from '../../tools/local/localStack.ts';
import type { Moto } from '../../tools/local/moto.ts';

// moto has no SSM Automation: StartAutomationExecution is mocked, everything else is moto.
const ssm = mockClient(SSMClient);
let moto: Moto;
let stack: LocalStack;
let handler: typeof import('#functions/onAlarm/handler.ts').handler;
/** Holds SNS Publish calls back this long, to catch a delivery in the middle of paging. */
let publishDelayMs = 0;

const STACK = 'ops-autopilot-emulator';
const OPTED_IN = { 'ops:auto-remediate': 'true' };

/** Running instances in moto with the given tags; their ids (moto chooses them). */
async function launch(count: number, tags: Record<string, string>): Promise<string[]> {
  const res = await new EC2Client({}).send(
    new RunInstancesCommand({
      ImageId: DEFAULT_AMI,
      InstanceType: 't3.micro',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return (res.Instances ?? []).map((i) => i.InstanceId as string);
}

/** The alarm's instance: running and opted in to remediation, launched anew for every test. */
let instanceId: string;
const makeAlarmEvent = (options: AlarmEventOptions = {}) =>
  alarmEvent({ dimensions: { InstanceId: instanceId }, ...options });

const setMode = setDryRun;

beforeAll(async () => {
  moto = await startEmulatedStack(STACK);
  ({ handler } = await import('#functions/onAlarm/handler.ts'));
  // Concurrent deliveries race here: each state-table write must be atomic, as in DynamoDB.
  await sendStateTableCallsOneAtATime();
  const { sns } = await import('#shared/aws/sns.ts');
  sns.middlewareStack.add(
    (next) => async (args) => {
      if (publishDelayMs > 0) await new Promise((r) => setTimeout(r, publishDelayMs));
      return next(args);
    },
    { step: 'initialize', name: 'delayPublishForTests' },
  );
});

afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  stack = await createLocalStack(STACK);
  publishDelayMs = 0;
  ssm.reset();
  killSwitchFromEmulator(ssm);
  ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'exec-1' });
  setMode(false);
  [instanceId] = (await launch(1, OPTED_IN)) as [string];
});

const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (hhmm: string) => `2025-06-21T${hhmm}:00.000+0000`;
const alarmAt = (id: string, hhmm: string) =>
  makeAlarmEvent({ id, alarmName: 'web-cpu-high', timestamp: at(hhmm) });
const okAt = (id: string, hhmm: string) =>
  makeAlarmEvent({ id, alarmName: 'web-cpu-high', state: 'OK', timestamp: at(hhmm) });
const runbookStarts = () => ssm.commandCalls(StartAutomationExecutionCommand);

describe('onAlarm against the emulator', () => {
  it('starts the mapped runbook and delivers one readable page with its attributes', async () => {
    // Arrange
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high' });
    // Act
    await invoke(event);
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    const [page] = pages;
    expect(page?.subject).toBe('[HIGH] alarm.state-change: web-cpu-high is ALARM');
    expect(page?.body).toContain('Account 123456789012, region us-east-1');
    expect(page?.body).toContain(`ec2 instance ${instanceId}`);
    expect(page?.body).toContain(
      `DONE ssm.start-automation: started AWS-RestartEC2Instance InstanceId=${instanceId}`,
    );
    expect(page?.body).toContain(`Correlation id: ${event.id}`);
    expect(page?.attributes).toMatchObject({
      severity: 'high',
      kind: 'alarm.state-change',
      account: '123456789012',
      region: 'us-east-1',
    });
    const starts = runbookStarts();
    expect(starts).toHaveLength(1);
    expect(starts[0]?.args[0].input).toMatchObject({
      DocumentName: 'AWS-RestartEC2Instance',
      Parameters: { InstanceId: [instanceId] },
    });
    expect(starts[0]?.args[0].input.ClientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('pages once and starts one runbook when the same event is delivered twice in a row', async () => {
    // Arrange
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high' });
    // Act
    const first = await invoke(event);
    const second = await invoke(structuredClone(event));
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
    expect(runbookStarts()).toHaveLength(1);
    expect(second).toEqual(first);
  });

  it('pages once and starts one runbook when the same event is delivered twice at once', async () => {
    // Arrange
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high' });
    // Act
    const results = await Promise.allSettled([invoke(event), invoke(structuredClone(event))]);
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
    expect(runbookStarts()).toHaveLength(1);
    // The loser either sees the stored result or is told the first is still in progress (Lambda retries it).
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as Error).name).toBe('IdempotencyAlreadyInProgressError');
    }
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
  });

  it('keeps one execution when a third delivery arrives while the first is still running', async () => {
    // Arrange: the first delivery is slow inside its runbook start.
    ssm.on(StartAutomationExecutionCommand).callsFake(async () => {
      await new Promise((r) => setTimeout(r, 400));
      return { AutomationExecutionId: 'exec-slow' };
    });
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high' });
    // Act: the second delivery is refused as in progress; the third comes after that refusal.
    const first = invoke(event);
    await new Promise((r) => setTimeout(r, 100));
    const second = await invoke(structuredClone(event)).catch((e: unknown) => e as Error);
    const third = await invoke(structuredClone(event)).catch((e: unknown) => e as Error);
    await first;
    // Assert
    expect((second as Error).name).toBe('IdempotencyAlreadyInProgressError');
    expect((third as Error).name).toBe('IdempotencyAlreadyInProgressError');
    expect(runbookStarts()).toHaveLength(1);
    expect(await stack.readPages()).toHaveLength(1);
  });

  it('pages once per incident and counts later deliveries, which the resolve notice reports', async () => {
    // Arrange
    const alarm = (id: string) => makeAlarmEvent({ id, alarmName: 'web-cpu-high' });
    // Act
    await invoke(alarm('a-1'));
    await invoke(alarm('a-2'));
    await invoke(alarm('a-3'));
    await invoke(makeAlarmEvent({ id: 'ok-1', alarmName: 'web-cpu-high', state: 'OK' }));
    // Assert
    const pages = await stack.readPages();
    expect(pages.map((p) => p.subject)).toEqual([
      '[HIGH] alarm.state-change: web-cpu-high is ALARM',
      '[RESOLVED] alarm.state-change: web-cpu-high is OK',
    ]);
    expect(pages[1]?.body).toContain('Repeats during the incident: 2 further deliveries were not paged.');
    // The resolve carries the page's severity, so a subscription filtered on it gets both.
    expect(pages[1]?.attributes).toMatchObject({ severity: 'high', notice: 'resolve' });
  });

  it('sends one resolve notice for OK after ALARM, and none for a second OK', async () => {
    // Arrange
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    await stack.readPages();
    // Act
    await invoke(makeAlarmEvent({ id: 'ok-1', alarmName: 'web-cpu-high', state: 'OK' }));
    await invoke(makeAlarmEvent({ id: 'ok-2', alarmName: 'web-cpu-high', state: 'OK' }));
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    expect(pages[0]?.subject).toBe('[RESOLVED] alarm.state-change: web-cpu-high is OK');
  });

  it('pages again when the alarm fires after its resolve notice, and says it is a new incident', async () => {
    // Arrange
    const at = (hh: string) => `2025-06-21T${hh}:00:00.000+0000`;
    // Act
    await invoke(makeAlarmEvent({ id: 'a-1', alarmName: 'web-cpu-high', timestamp: at('02') }));
    await invoke(makeAlarmEvent({ id: 'ok-1', alarmName: 'web-cpu-high', state: 'OK', timestamp: at('03') }));
    await invoke(makeAlarmEvent({ id: 'a-2', alarmName: 'web-cpu-high', timestamp: at('04') }));
    // Assert
    const pages = await stack.readPages();
    expect(pages.map((p) => p.attributes.notice)).toEqual(['incident', 'resolve', 'incident']);
    expect(pages[2]?.body).toContain('It fired again after its resolve notice');
  });

  it('does not page an ALARM delivered after the OK that ended it', async () => {
    // Arrange: deliveries out of order, the OK (03:00) before its ALARM (02:00).
    const at = (hh: string) => `2025-06-21T${hh}:00:00.000+0000`;
    // Act
    await invoke(makeAlarmEvent({ id: 'ok-1', alarmName: 'web-cpu-high', state: 'OK', timestamp: at('03') }));
    const result = await invoke(
      makeAlarmEvent({ id: 'a-1', alarmName: 'web-cpu-high', timestamp: at('02') }),
    );
    // Assert
    expect(await stack.readPages()).toHaveLength(0);
    expect(result).toMatchObject({
      outcomes: expect.arrayContaining([
        expect.objectContaining({ kind: 'sns.page', reason: 'already-recovered' }),
      ]),
    });
  });

  it('resolves an OK that arrives while its page is being published, once the page is out', async () => {
    // Arrange
    setMode(true);
    publishDelayMs = 400;
    // Act
    const paging = invoke(alarmAt('a-1', '02:00'));
    await sleep(150);
    const ok = await invoke(okAt('ok-1', '02:05'));
    await paging;
    // Assert
    expect(ok).toMatchObject({ outcomes: [expect.objectContaining({ kind: 'sns.page', status: 'done' })] });
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual(['incident', 'resolve']);
  });

  it('defers an OK whose page takes too long, and resolves on the retry', async () => {
    // Arrange
    setMode(true);
    publishDelayMs = 3500;
    // Act
    const paging = invoke(alarmAt('a-1', '02:00'));
    await sleep(150);
    const early = await invoke(okAt('ok-1', '02:05')).catch((e: unknown) => e as Error);
    await paging;
    publishDelayMs = 0;
    await invoke(okAt('ok-1', '02:05')); // Lambda's retry of the same delivery
    // Assert
    expect((early as Error).name).toBe('ActionFailedError');
    expect((early as Error).message).toContain('PageInProgress');
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual(['incident', 'resolve']);
  }, 20_000);

  it('does not resolve with an OK older than an ALARM that came after it', async () => {
    // Arrange: ALARM 02:00 pages; ALARM 04:00 is delivered before the OK of 03:00.
    await invoke(alarmAt('a-1', '02:00'));
    await invoke(alarmAt('a-2', '04:00'));
    // Act
    const stale = await invoke(okAt('ok-1', '03:00'));
    const current = await invoke(okAt('ok-2', '05:00'));
    // Assert
    expect(stale).toMatchObject({ outcomes: [expect.objectContaining({ reason: 'superseded' })] });
    expect(current).toMatchObject({ outcomes: [expect.objectContaining({ status: 'done' })] });
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual(['incident', 'resolve']);
  });

  it('recognises a late ALARM in a later incident, after the first was paged and resolved', async () => {
    // Arrange: incident one, paged and resolved.
    await invoke(alarmAt('a-1', '02:00'));
    await invoke(okAt('ok-1', '03:00'));
    // Act: incident two arrives OK (06:00) before its ALARM (05:00).
    await invoke(okAt('ok-3', '06:00'));
    const late = await invoke(alarmAt('a-3', '05:00'));
    // Assert
    expect(late).toMatchObject({
      outcomes: expect.arrayContaining([
        expect.objectContaining({ kind: 'sns.page', reason: 'already-recovered' }),
      ]),
    });
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual(['incident', 'resolve']);
  });

  it('records an OK after a failed page instead of deferring it, so the late retry is not paged', async () => {
    // Arrange: the ALARM's page cannot be published.
    const failedPage = await withUnreachableTopic(() =>
      invoke(alarmAt('a-1', '02:00')).catch((e: unknown) => e as Error),
    );
    // Act: the OK arrives, then Lambda's retry of the ALARM.
    const ok = await invoke(okAt('ok-1', '03:00'));
    const retried = await invoke(alarmAt('a-1', '02:00'));
    // Assert
    expect((failedPage as Error).name).toBe('ActionFailedError');
    expect(ok).toMatchObject({ outcomes: [expect.objectContaining({ reason: 'no-open-incident' })] });
    expect(retried).toMatchObject({
      outcomes: expect.arrayContaining([
        expect.objectContaining({ kind: 'sns.page', reason: 'already-recovered' }),
      ]),
    });
    expect(await stack.readPages()).toHaveLength(0);
  });

  it('starts a re-opened incident with no repeats of its own', async () => {
    // Arrange: one incident with one repeat, resolved.
    await invoke(alarmAt('a-1', '02:00'));
    await invoke(alarmAt('a-1b', '02:01'));
    await invoke(okAt('ok-1', '03:00'));
    // Act
    await invoke(alarmAt('a-2', '04:00'));
    // Assert
    const pages = await stack.readPages();
    expect(pages[1]?.body).toContain('Repeats during the incident: 1');
    expect(pages[2]?.body).not.toContain('Repeats:');
  });

  it('pages a multi-time-series alarm once, whatever number of contributors breach', async () => {
    // Arrange: the alarm-level event and two contributor events, as AWS sends them.
    const alarmLevel = loadFixture('onAlarm/multi-time-series-alarm.json');
    const contributor = loadFixture<{ id: string; detail: { alarmContributor: { id: string } } }>(
      'onAlarm/multi-time-series-contributor-alarm.json',
    );
    const second = structuredClone(contributor);
    second.id = crypto.randomUUID();
    second.detail.alarmContributor.id = 'another-series';
    // Act
    for (const e of [contributor, alarmLevel, second]) await invoke(e);
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
  });

  it('sends no resolve notice for OK when nothing was paged', async () => {
    // Act
    const result = await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high', state: 'OK' }));
    // Assert
    expect(await stack.readPages()).toHaveLength(0);
    expect(result).toMatchObject({
      outcomes: [{ kind: 'sns.page', status: 'skipped', reason: 'no-open-incident' }],
    });
  });

  it('makes no runbook call in dry-run and says in the page what it would have done', async () => {
    // Arrange
    setMode(true);
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'web-cpu-high' }));
    // Assert
    expect(ssm.calls()).toHaveLength(0);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      'SKIPPED (dry-run) ssm.start-automation: would start AWS-RestartEC2Instance',
    );
  });

  it('takes the severity from the alarm tags it reads from CloudWatch', async () => {
    // Arrange
    await new CloudWatchClient({}).send(
      new PutMetricAlarmCommand({
        AlarmName: 'orders-latency',
        Namespace: 'App',
        MetricName: 'Latency',
        Statistic: 'Average',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Tags: [{ Key: 'severity', Value: 'critical' }],
      }),
    );
    // Act
    await invoke(makeAlarmEvent({ alarmName: 'orders-latency' }));
    // Assert
    const [page] = await stack.readPages();
    expect(page?.subject).toBe('[CRITICAL] alarm.state-change: orders-latency is ALARM');
    expect(page?.attributes.severity).toBe('critical');
  });

  it('records every decision in the action log', async () => {
    // Arrange
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high' });
    // Act
    await invoke(event);
    // Assert
    const entries = (await stack.scanTable()).filter(
      (i) => i.type === 'action' && i.correlationId === event.id,
    );
    expect(entries.map((e) => [e.intentKind, e.decision]).sort()).toEqual([
      ['sns.page', 'done'],
      ['ssm.start-automation', 'done'],
    ]);
    expect(entries.every((e) => typeof e.expiration === 'number')).toBe(true);
  });

  it('does nothing for a muted alarm but log why', async () => {
    // Act
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high', muted: true });
    await invoke(event);
    // Assert
    expect(await stack.readPages()).toHaveLength(0);
    expect(runbookStarts()).toHaveLength(0);
    const entries = (await stack.scanTable()).filter((i) => i.correlationId === event.id);
    expect(entries).toEqual([expect.objectContaining({ decision: 'skipped', reason: 'muted' })]);
  });
});

/** The Metrics Insights contributor sample, regrouped by instance: one event per breaching instance. */
function instanceContributor(alarmName: string, contributorId: string, instance: string) {
  const event = loadFixture<{
    id: string;
    resources: string[];
    detail: { alarmName: string; alarmContributor: { id: string; attributes: Record<string, string> } };
  }>('onAlarm/multi-time-series-contributor-alarm.json');
  event.id = crypto.randomUUID();
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  event.detail.alarmName = alarmName;
  event.detail.alarmContributor = { id: contributorId, attributes: { InstanceId: instance } };
  return event;
}

describe('onAlarm runbook scope and limits against the emulator', () => {
  it('does not restart an instance that did not opt in, pages why and logs it', async () => {
    // Arrange: a crafted alarm naming an instance that never opted in.
    const [victim] = await launch(1, { Name: 'payments-db' });
    const event = alarmEvent({ alarmName: 'web-cpu-high', dimensions: { InstanceId: victim as string } });
    // Act
    await invoke(event);
    // Assert
    expect(runbookStarts()).toHaveLength(0);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `instance ${victim} is not tagged ops:auto-remediate=true (it has no such tag)`,
    );
    const entries = (await stack.scanTable()).filter((i) => i.correlationId === event.id);
    expect(entries).toContainEqual(expect.objectContaining({ decision: 'skipped', reason: 'out-of-scope' }));
  });

  it('does not restart an opted-in instance an Auto Scaling group manages, and pages why', async () => {
    // Arrange: the target's tags are read through the Tagging API, which lists aws: tags too.
    const [managed] = await launch(1, { ...OPTED_IN, 'aws:autoscaling:groupName': 'web-asg' });
    const event = alarmEvent({ alarmName: 'web-cpu-high', dimensions: { InstanceId: managed as string } });
    // Act
    await invoke(event);
    // Assert
    expect(runbookStarts()).toHaveLength(0);
    const [page] = await stack.readPages();
    expect(page?.body).toContain(`instance ${managed}`);
    expect(page?.body).toContain('aws:autoscaling:groupName');
  });

  it('starts no runbook for an ALARM delivered after the newer OK that ended it', async () => {
    // Arrange: the OK (03:00) is delivered first.
    await invoke(okAt('ok-1', '03:00'));
    // Act: its older ALARM (02:00) arrives late.
    const late = await invoke(alarmAt('a-1', '02:00'));
    // Assert
    expect(runbookStarts()).toHaveLength(0);
    expect(await stack.readPages()).toHaveLength(0);
    // Live, the start's claim refuses it: its transaction checks the incident's last OK.
    expect(late.outcomes).toContainEqual(
      expect.objectContaining({ kind: 'ssm.start-automation', reason: 'already-recovered' }),
    );
  });

  it('previews no runbook start in a dry run of an ALARM delivered after the newer OK that ended it', async () => {
    // Arrange: a dry run claims nothing, so gather reads the last OK for the plan.
    setMode(true);
    await invoke(okAt('ok-1', '03:00'));
    // Act
    const late = await invoke(alarmAt('a-1', '02:00'));
    // Assert
    expect(await stack.readPages()).toHaveLength(0);
    expect(late).toMatchObject({ notes: [expect.objectContaining({ reason: 'already-recovered' })] });
    expect(late.outcomes).not.toContainEqual(expect.objectContaining({ kind: 'ssm.start-automation' }));
  });

  it('starts one runbook for 30 contributors of one alarm delivered at once, and logs every refusal', async () => {
    // Arrange: 30 opted-in instances breach together; AWS sends one contributor event each.
    const instances = await launch(30, OPTED_IN);
    const events = instances.map((id, k) => instanceContributor('web-cpu-insights', `series-${k}`, id));
    // Act
    const results = await Promise.all(events.map((e) => invoke(e)));
    // Assert
    expect(runbookStarts()).toHaveLength(1);
    const refused = results.flatMap((r) => r.outcomes).filter((o) => o.reason === 'limit-reached');
    expect(refused).toHaveLength(29);
    expect(refused[0]?.detail).toContain('rule web-cpu allows 1 start(s) per incident every 60 min');
    expect(await stack.readPages()).toHaveLength(1);
    const logged = (await stack.scanTable()).filter(
      (i) => i.type === 'action' && i.reason === 'limit-reached',
    );
    expect(logged).toHaveLength(29);
  });

  it('names the limit and the earlier execution when a later contributor is refused', async () => {
    // Arrange
    const [a, b] = (await launch(2, OPTED_IN)) as [string, string];
    await invoke(instanceContributor('web-cpu-insights', 'series-a', a));
    // Act
    const later = await invoke(instanceContributor('web-cpu-insights', 'series-b', b));
    // Assert
    expect(runbookStarts()).toHaveLength(1);
    expect(later.outcomes).toContainEqual(
      expect.objectContaining({
        kind: 'ssm.start-automation',
        status: 'skipped',
        reason: 'limit-reached',
        detail: expect.stringMatching(
          new RegExp(
            `did not start AWS-RestartEC2Instance InstanceId=${b}.*already used by execution exec-1`,
          ),
        ),
      }),
    );
  });
});
