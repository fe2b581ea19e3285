import { describe, expect, it } from 'vitest';
import type { PageIntent, StopInstancesIntent } from '#shared/domain/intent.ts';
import { decideFleet } from '#shared/idle/fleet.ts';
import { lookbackWindow } from '#shared/idle/gather.ts';
import { finishFirstDecision } from '#shared/idle/plan.ts';
import { invocationSiteOf as invocationOf } from '#shared/runtime/functionSpec.ts';
import {
  type Box,
  gathered,
  idleBox,
  instance,
  plan,
  runFor,
  scheduled,
  signalOf,
  stats,
} from '../support/idlePlan.ts';

describe('the idle scan signal', () => {
  it('threads a scheduled run by its event id', () => {
    // Act
    const signal = signalOf();
    // Assert
    expect(signal).toMatchObject({
      kind: 'ec2.idle-scan',
      correlationId: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      incidentKey: 'idle-scan#53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      account: '123456789012',
      region: 'us-east-1',
      occurredAt: '2025-06-21T10:00:00Z',
    });
  });

  it('threads a manual run by its Lambda request id, in the account and region it runs in', () => {
    // Act
    const signal = signalOf({ dryRun: true });
    // Assert
    expect(signal).toMatchObject({
      correlationId: 'req-1',
      incidentKey: 'idle-scan#req-1',
      account: '111122223333',
      region: 'eu-west-1',
    });
  });
});

describe('where a run was invoked', () => {
  it('reads the account and region from the function ARN', () => {
    // Act
    const invocation = invocationOf(
      { awsRequestId: 'req-9', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:f' },
      'us-east-1',
    );
    // Assert
    expect(invocation).toEqual({ requestId: 'req-9', account: '111122223333', region: 'eu-west-1' });
  });

  it('falls back to the environment region and a placeholder account under sls invoke local', () => {
    // Act
    const invocation = invocationOf({ awsRequestId: 'req-9', invokedFunctionArn: undefined }, 'eu-central-1');
    // Assert
    expect(invocation).toEqual({ requestId: 'req-9', account: '000000000000', region: 'eu-central-1' });
  });
});

describe('planning an idle scan', () => {
  it('plans one stop of the idle instances, then one summary page', () => {
    // Act
    const result = plan([
      idleBox('i-idle1'),
      idleBox('i-idle2', { instanceType: 'x9.huge' }),
      { facts: instance('i-busy'), cpu: 50, network: 10 },
      idleBox('i-eks', { tags: { 'ops:auto-stop': 'true', 'eks:cluster-name': 'main' } }),
    ]);
    // Assert
    expect(result.intents.map((i) => i.kind)).toEqual(['ec2.stop-instances', 'sns.page']);
    const stop = result.intents[0] as StopInstancesIntent;
    expect(stop.instances.map((i) => i.instanceId)).toEqual(['i-idle1', 'i-idle2']);
    expect(stop.instances[0]?.reason).toMatch(/^Idle over 24 h: hourly CPU max 1 %/);
    expect(result.findings).toMatchObject({
      dryRun: false,
      estimatedMonthlySavingUsd: 60.74,
      unpricedStops: ['i-idle2'],
      stops: [
        { instanceId: 'i-idle1', estimatedMonthlySavingUsd: 60.74 },
        { instanceId: 'i-idle2', estimatedMonthlySavingUsd: 'unknown' },
      ],
      counts: { considered: 4, stop: 2, capped: 0, spared: 1, excluded: 1 },
      scanStats: stats,
    });
    expect(result.findings?.verdicts).toHaveLength(4);
    expect(result.notes).toEqual([]);
  });

  it('summarizes the run in the page: the verdict table, spared and excluded counts, the saving', () => {
    // Act
    const result = plan([
      idleBox('i-idle1'),
      { facts: instance('i-busy'), cpu: 50 },
      { facts: instance('i-nodata') },
      idleBox('i-untagged', { tags: {} }),
      idleBox('i-spot', { lifecycle: 'spot' }),
    ]);
    // Assert
    const page = result.intents[1] as PageIntent;
    expect(page).toMatchObject({ notice: 'incident', severity: 'warning' });
    expect(page.content.title).toBe('idle scan stopping 1 instance(s) (est. $60.74/month)');
    expect(page.incidentKey).toBe('idle-scan#53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa');
    expect(page.content.resources).toEqual([{ type: 'ec2 instance', id: 'i-idle1' }]);
    expect(page.content.details).toEqual([
      'Verdicts',
      '  decision  instance  type      max CPU  max net/h  hours  saving/month',
      '  stop      i-idle1   t3.large  1 %      20 KB      24/24  $60.74',
      '',
      'Spared: 2 (busy-cpu 1, not-enough-data 1)',
      'Excluded: 2 (not-opted-in 1, spot 1)',
      'Every verdict with its reason: in CloudWatch Logs, log group /aws/lambda/local, entries "idle verdicts" with correlationId 53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa.',
      'Estimated monthly saving: $60.74/month (on-demand compute, EBS stays billed; estimate for us-east-1, basis: us-east-1 on-demand Linux list prices (2025))',
    ]);
  });

  it('tells the reader of a manual run that its result holds every verdict', () => {
    // Act
    const result = plan([idleBox('i-idle1')], runFor({ dryRun: true }));
    // Assert
    expect((result.intents[1] as PageIntent).content.details).toContain(
      'Every verdict with its reason: in the result of this manual invoke (findings.verdicts).',
    );
  });

  it('says "would stop" and keeps the stop in dry-run when the run is a dry-run', () => {
    // Act
    const result = plan([idleBox('i-idle1')], runFor({ dryRun: true }));
    // Assert
    expect(result.intents[0]?.kind).toBe('ec2.stop-instances');
    expect(result.dryRun).toBe(true);
    expect((result.intents[1] as PageIntent).content.title).toContain('would stop 1 instance(s)');
    expect(result.findings).toMatchObject({ dryRun: true });
  });

  it('stops the quietest up to the cap and notes the capped ones', () => {
    // Act
    const result = plan(
      [idleBox('i-a', {}, 3), idleBox('i-b', {}, 1), idleBox('i-c', {}, 2)],
      runFor({ maxStopsPerHour: 2 }),
    );
    // Assert
    expect((result.intents[0] as StopInstancesIntent).instances.map((i) => i.instanceId)).toEqual([
      'i-b',
      'i-c',
    ]);
    expect(result.notes).toEqual([
      {
        decision: 'skipped',
        reason: 'capped',
        detail:
          '1 idle instance(s) not stopped: the limit is 2 stop(s) per rolling hour, 0 already made in the last hour',
      },
    ]);
    expect((result.intents[1] as PageIntent).content.details).toContain(
      '  capped    i-a       t3.large  3 %      20 KB      24/24  -',
    );
  });

  it('plans only the stops the rolling hour has left, the quietest first, and says why the rest wait', () => {
    // Act: a limit of 3 an hour, 2 of them spent by an earlier run.
    const result = plan(
      [idleBox('i-a', {}, 3), idleBox('i-b', {}, 1), idleBox('i-c', {}, 2)],
      runFor({ maxStopsPerHour: 3 }),
      2,
    );
    // Assert
    const stop = result.intents[0] as StopInstancesIntent;
    expect(stop.instances.map((i) => i.instanceId)).toEqual(['i-b']);
    expect(stop.maxStopsPerHour).toBe(3);
    expect(result.findings).toMatchObject({ maxStopsPerHour: 3, stopsInLastHour: 2, counts: { capped: 2 } });
    const capped = ((result.findings?.verdicts ?? []) as { instanceId: string; reason: string }[]).find(
      (v) => v.instanceId === 'i-c',
    );
    expect(capped?.reason).toContain(
      'Not stopped: the limit of 3 stops per rolling hour was reached (2 already in the last hour;',
    );
  });

  it('plans no stop when the hour is spent, and pages nobody', () => {
    // Act
    const result = plan([idleBox('i-a')], runFor(scheduled()), 10);
    // Assert
    expect(result.intents).toEqual([]);
    expect(result.notes.map((n) => n.reason)).toEqual(['capped', 'nothing-to-do']);
  });

  it('plans nothing and pages nobody when no instance is idle', () => {
    // Act
    const result = plan([
      { facts: instance('i-busy'), cpu: 50 },
      idleBox('i-out', { tags: { 'ops:auto-stop': 'false' } }),
    ]);
    // Assert
    expect(result.intents).toEqual([]);
    expect(result.notes).toEqual([
      {
        decision: 'skipped',
        reason: 'nothing-to-do',
        detail: 'no idle instance to stop among 2 running (1 spared, 1 excluded)',
      },
    ]);
    expect(result.findings).toMatchObject({ stops: [], estimatedMonthlySavingUsd: 0 });
  });

  it('pages nobody when the cap is zero, and says the idle ones were capped', () => {
    // Act
    const result = plan([idleBox('i-idle1')], runFor({ maxStopsPerHour: 0 }));
    // Assert
    expect(result.intents).toEqual([]);
    expect(result.notes.map((n) => n.reason)).toEqual(['capped', 'nothing-to-do']);
  });
});

describe('the lookback window', () => {
  it('ends at the last whole hour and spans the lookback', () => {
    // Act
    const window = lookbackWindow(new Date('2025-06-21T10:42:17Z'), 24);
    // Assert
    expect(window.end.toISOString()).toBe('2025-06-21T10:00:00.000Z');
    expect(window.start.toISOString()).toBe('2025-06-20T10:00:00.000Z');
  });
});

const decideFleetFor = (boxes: Box[]) => {
  const run = runFor(scheduled());
  const g = gathered(boxes, run);
  return decideFleet({ ...g, policy: run.policy, scope: run.scope, maxStopsPerHour: run.maxStopsPerHour });
};

describe('a retried run', () => {
  it('finishes its first decision: the recorded instances are stops again, other idle ones wait', () => {
    // Arrange: the first attempt recorded i-a and i-b and stopped i-a (no longer running, so unseen)
    const verdicts = decideFleetFor([idleBox('i-b'), idleBox('i-new')]);
    // Act
    const finished = finishFirstDecision(verdicts, ['i-a', 'i-b']);
    // Assert
    const byId = new Map(finished.map((v) => [v.instanceId, v]));
    expect(byId.get('i-a')?.decision).toBe('stop');
    expect(byId.get('i-b')?.decision).toBe('stop');
    expect(byId.get('i-new')).toMatchObject({
      decision: 'capped',
      reason: expect.stringMatching(/first decision/),
    });
  });
});
