import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { withUnreachableTopic } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import {
  alarmAt,
  holdPublishes,
  instanceId,
  invoke,
  makeAlarmEvent,
  okAt,
  runbookStarts,
  setMode,
  ssm,
  stack,
  watchStateTable,
} from '../support/alarmEmulator.ts';
import { alarmStateChange } from '../support/events/index.ts';
import { latch } from '../support/latch.ts';

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
    // Arrange: the first delivery is held inside its runbook start until both others have been answered.
    const starting = latch();
    const release = latch();
    let starts = 0;
    ssm.on(StartAutomationExecutionCommand).callsFake(async () => {
      // Only the first start is held: a copy that wrongly got through answers at once, and is counted.
      if (++starts === 1) {
        starting.open();
        await release.opened;
      }
      return { AutomationExecutionId: `exec-${starts}` };
    });
    const event = makeAlarmEvent({ alarmName: 'web-cpu-high' });
    // Act: the second delivery is refused as in progress; the third comes after that refusal.
    const first = invoke(event);
    await starting.opened;
    const second = await invoke(structuredClone(event)).catch((e: unknown) => e as Error);
    const third = await invoke(structuredClone(event)).catch((e: unknown) => e as Error);
    release.open();
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
    // Arrange: the page is held at SNS until the OK has read the record and found it still being sent.
    setMode(true);
    const publish = holdPublishes();
    let claimFailed = false;
    watchStateTable((call, error) => {
      if (call.updateExpression.startsWith('SET resolvedBy')) claimFailed = error !== undefined;
      else if (claimFailed && /^Get(Item)?Command$/.test(call.command)) {
        claimFailed = false;
        publish.release();
      }
    });
    // Act
    const paging = invoke(alarmAt('a-1', '02:00'));
    await publish.started;
    const ok = await invoke(okAt('ok-1', '02:05'));
    await paging;
    // Assert
    expect(ok).toMatchObject({ outcomes: [expect.objectContaining({ kind: 'sns.page', status: 'done' })] });
    expect((await stack.readPages()).map((p) => p.attributes.notice)).toEqual(['incident', 'resolve']);
  });

  it('defers an OK whose page takes too long, and resolves on the retry', async () => {
    // Arrange
    setMode(true);
    const publish = holdPublishes();
    // Act: the page is held until the OK has given up waiting for it.
    const paging = invoke(alarmAt('a-1', '02:00'));
    await publish.started;
    const early = await invoke(okAt('ok-1', '02:05')).catch((e: unknown) => e as Error);
    publish.release();
    await paging;
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
    const contributor = alarmStateChange('multi-time-series-contributor-alarm');
    const second = alarmStateChange('multi-time-series-contributor-alarm', {
      id: crypto.randomUUID(),
      contributor: { id: 'another-series', attributes: { TableName: 'payments-ledger' } },
    });
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
