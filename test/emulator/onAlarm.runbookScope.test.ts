import { describe, expect, it } from 'vitest';
import { makeAlarmEvent as alarmEvent } from '../../tools/local/events.ts';
import {
  alarmAt,
  invoke,
  launch,
  OPTED_IN,
  okAt,
  runbookStarts,
  setMode,
  stack,
} from '../support/alarmEmulator.ts';
import { alarmStateChange } from '../support/events/index.ts';

/** The Metrics Insights contributor sample, regrouped by instance: one event per breaching instance. */
function instanceContributor(alarmName: string, contributorId: string, instance: string) {
  return alarmStateChange('multi-time-series-contributor-alarm', {
    id: crypto.randomUUID(),
    alarmName,
    contributor: { id: contributorId, attributes: { InstanceId: instance } },
  });
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
