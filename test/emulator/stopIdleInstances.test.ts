import { describe, expect, it } from 'vitest';
import { withUnreachableTopic } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { instanceStates, only, seedFleet } from '../../tools/local/fleet.ts';
import {
  calls,
  callsOf,
  decisionOf,
  idle,
  idleCpu,
  invoke,
  MUTATING,
  OPT_IN,
  setStageDryRun,
  stack,
  stopExecutor,
  stoppedIds,
  type Verdict,
  verdictsOf,
} from '../support/idleEmulator.ts';

describe('stopIdleInstances against the emulator', () => {
  it('stops and tags only the idle opted-in instances, and pages a summary with the verdicts', async () => {
    // Arrange
    const fleet = await seedFleet([
      idle('idle-a', { instanceType: 't3.large' }),
      // Its own figures differ from idle-a's: the tag still costs one call, the figures go to the action log.
      idle('idle-b', { instanceType: 'm5.large', cpu: { hours: 24, value: 2 } }),
      idle('busy-cpu', { cpu: { hours: 24, value: 1, peakHours: [3], peak: 40 } }),
      idle('busy-network', { network: { hours: 24, value: 8_000_000 } }),
      idle('sparse', { cpu: { hours: 12, value: 1 } }),
      idle('not-opted-in', { tags: {} }),
      idle('opted-out', { tags: { 'ops:auto-stop': 'false' } }),
      idle('asg', { tags: { ...OPT_IN, 'aws:autoscaling:groupName': 'web' } }),
      idle('eks', { tags: { ...OPT_IN, 'eks:cluster-name': 'main' } }),
      idle('spot', { spot: true }),
      idle('protected', { disableApiStop: true }),
    ]);
    // Act
    const result = await invoke({});
    // Assert
    const seen = await instanceStates();
    const stopped = [only(fleet, 'idle-a'), only(fleet, 'idle-b')];
    expect(fleet.all.filter((id) => seen.get(id)?.state === 'stopped').sort()).toEqual([...stopped].sort());
    for (const id of stopped) {
      const tags = seen.get(id)?.tags ?? {};
      expect(tags['ops:stopped-by']).toBe('ops-autopilot');
      expect(Date.now() - Date.parse(tags['ops:stopped-at'] ?? '')).toBeLessThan(60_000);
      expect(tags['ops:stop-reason']).toMatch(
        /^idle-stop: hourly CPU max < 5 %, network < [\d.]+ MB\/h over 24 h/,
      );
    }
    const tagOf = (name: string) => seen.get(only(fleet, name))?.tags['ops:stop-reason'];
    expect(tagOf('idle-a')).toBe(tagOf('idle-b'));
    const evidence = (await stack.scanTable()).filter((r) => String(r.id).includes('#action#') && r.resource);
    expect(evidence.find((r) => r.resource === only(fleet, 'idle-a'))?.detail).toMatch(/hourly CPU max 1 %/);
    expect(evidence.find((r) => r.resource === only(fleet, 'idle-b'))?.detail).toMatch(/hourly CPU max 2 %/);
    expect(seen.get(only(fleet, 'busy-cpu'))?.tags['ops:stopped-by']).toBeUndefined();
    // Stopped optimistically: the protected instance is asked once with the others, refuses, and is not asked again.
    expect(stoppedIds().filter((id) => !stopped.includes(id))).toEqual([only(fleet, 'protected')]);
    const expected: Record<string, Partial<Verdict>> = {
      'busy-cpu': { decision: 'spare', status: 'busy-cpu' },
      'busy-network': { decision: 'spare', status: 'busy-network' },
      sparse: { decision: 'spare', status: 'not-enough-data' },
      'not-opted-in': { decision: 'excluded', exclusion: 'not-opted-in' },
      'opted-out': { decision: 'excluded', exclusion: 'opted-out' },
      asg: { decision: 'excluded', exclusion: 'auto-scaling-member' },
      eks: { decision: 'excluded', exclusion: 'eks-managed' },
      spot: { decision: 'excluded', exclusion: 'spot' },
      protected: { decision: 'excluded', exclusion: 'stop-protection' },
    };
    for (const [name, verdict] of Object.entries(expected)) {
      expect(decisionOf(result, only(fleet, name)), name).toMatchObject(verdict);
    }
    const [page, ...more] = await stack.readPages();
    expect(more).toHaveLength(0);
    expect(page?.subject).toMatch(
      /^\[WARNING\] ec2\.idle-scan: idle scan stopping 2 instance\(s\) \(est\. \$130\.82\/month/,
    );
    expect(page?.body).toContain(`stop      ${only(fleet, 'idle-a')}  t3.large`);
    expect(page?.body).toContain('Spared: 3 (busy-cpu 1, busy-network 1, not-enough-data 1)');
    expect(page?.body).toContain('Excluded: 6 (');
    // Stopped optimistically: the refusal is counted where the stop is reported.
    expect(page?.body).toContain(
      `DONE ec2.stop-instances: stopped 2 of 3 instance(s): ${only(fleet, 'idle-a')}, ${only(fleet, 'idle-b')}; 1 refused by stop protection`,
    );
  });

  it('stops nothing in a manual dry-run: no mutating call, every instance still running', async () => {
    // Arrange
    const fleet = await seedFleet([idle('idle', { count: 3 })]);
    // Act
    const result = await invoke(loadFixture('stopIdleInstances/manual-dry-run.json'));
    // Assert
    expect(calls.filter((c) => MUTATING.includes(c.command))).toEqual([]);
    const seen = await instanceStates();
    expect(fleet.all.map((id) => seen.get(id)?.state)).toEqual(['running', 'running', 'running']);
    expect(result).toMatchObject({
      outcomes: [
        { kind: 'ec2.stop-instances', status: 'skipped', reason: 'dry-run' },
        { kind: 'sns.page', status: 'done' },
      ],
      findings: { dryRun: true, counts: { stop: 3 } },
    });
    const [page] = await stack.readPages();
    expect(page?.subject).toContain('idle scan would stop 3 instance(s)');
    expect(page?.body).toContain('SKIPPED (dry-run) ec2.stop-instances: would stop 3 instance(s)');
  });

  it('stops nothing on a dry-run stage when the schedule fires', async () => {
    // Arrange
    setStageDryRun(true);
    const fleet = await seedFleet([idle('idle')]);
    // Act
    await invoke(loadFixture('stopIdleInstances/scheduled-event.json'));
    // Assert
    expect(calls.filter((c) => MUTATING.includes(c.command))).toEqual([]);
    expect((await instanceStates()).get(only(fleet, 'idle'))?.state).toBe('running');
  });

  it('stops exactly the cap, the quietest first, and reports the rest as capped', async () => {
    // Arrange
    const fleet = await seedFleet([
      idle('quietest', { cpu: idleCpu(0.5) }),
      idle('quiet', { cpu: idleCpu(1) }),
      idle('less-quiet', { cpu: idleCpu(2) }),
      idle('least-quiet', { cpu: idleCpu(3) }),
    ]);
    // Act
    const result = await invoke({ maxStopsPerHour: 2 });
    // Assert
    expect(stoppedIds().sort()).toEqual([only(fleet, 'quietest'), only(fleet, 'quiet')].sort());
    const seen = await instanceStates();
    expect(fleet.all.filter((id) => seen.get(id)?.state === 'stopped')).toHaveLength(2);
    expect(decisionOf(result, only(fleet, 'less-quiet'))?.decision).toBe('capped');
    expect(decisionOf(result, only(fleet, 'least-quiet'))?.decision).toBe('capped');
    expect(result).toMatchObject({
      notes: [{ reason: 'capped' }],
      findings: { counts: { stop: 2, capped: 2 } },
    });
  });

  it('stops at most the hourly limit across back-to-back runs, manual and scheduled', async () => {
    // Arrange: 25 idle instances and the stage's limit of 10 stops per rolling hour.
    await seedFleet([idle('idle', { count: 25 })]);
    // Act
    const runs = [
      await invoke({}),
      await invoke({}),
      await invoke({}),
      await invoke(loadFixture('stopIdleInstances/scheduled-event.json')),
    ];
    // Assert
    const seen = [...(await instanceStates()).values()];
    expect(seen.filter((i) => i.state === 'stopped')).toHaveLength(10);
    expect(new Set(stoppedIds()).size).toBe(10);
    const counts = runs.map(
      (r) => (r as unknown as { findings: { counts: { stop: number } } }).findings.counts,
    );
    expect(counts.map((c) => c.stop)).toEqual([10, 0, 0, 0]);
    const capped = verdictsOf(runs[1]).find((v) => v.decision === 'capped');
    expect(capped?.reason).toContain('the limit of 10 stops per rolling hour was reached (10 already');
  });

  it('does not spend the hourly limit on a dry-run', async () => {
    // Arrange
    await seedFleet([idle('idle', { count: 4 })]);
    // Act
    await invoke(loadFixture('stopIdleInstances/manual-dry-run.json'));
    await invoke(loadFixture('stopIdleInstances/manual-dry-run.json'));
    const live = await invoke({ maxStopsPerHour: 4 });
    // Assert
    expect(new Set(stoppedIds()).size).toBe(4);
    expect(live).toMatchObject({ findings: { counts: { stop: 4, capped: 0 } } });
  });

  it('pages nothing and stops nothing when no instance is idle', async () => {
    // Arrange
    await seedFleet([idle('busy', { cpu: { hours: 24, value: 60 } }), idle('not-opted-in', { tags: {} })]);
    // Act
    const result = await invoke(loadFixture('stopIdleInstances/scheduled-event.json'));
    // Assert
    expect(await stack.readPages()).toHaveLength(0);
    expect(calls.filter((c) => MUTATING.includes(c.command))).toEqual([]);
    expect(result).toMatchObject({ outcomes: [], notes: [{ reason: 'nothing-to-do' }] });
  });

  it('scans once for a scheduled event delivered twice, and again for every manual invoke', async () => {
    // Arrange
    setStageDryRun(true);
    await seedFleet([idle('idle')]);
    const event = loadFixture('stopIdleInstances/scheduled-event.json');
    // Act
    const first = await invoke(event);
    const second = await invoke(structuredClone(event));
    await invoke({});
    await invoke({});
    // Assert
    expect(callsOf('DescribeInstancesCommand')).toHaveLength(3);
    expect(second).toEqual(first);
  });

  it('reports a stop-protected instance as protected, not failed, and still stops and tags the others', async () => {
    // Arrange: the executor is handed a protected instance, as when protection is turned on after the scan.
    const fleet = await seedFleet([idle('a'), idle('refuses', { disableApiStop: true }), idle('b')]);
    const ids = [only(fleet, 'a'), only(fleet, 'refuses'), only(fleet, 'b')];
    const intent = {
      kind: 'ec2.stop-instances' as const,
      instances: ids.map((instanceId) => ({ instanceId, reason: `idle ${instanceId}` })),
      dryRun: false,
      reason: 'test',
      tagReason: `idle-stop ${'x'.repeat(300)}`,
      maxStopsPerHour: 10,
    };
    // Act
    const signal = { correlationId: 'run-partial' };
    const outcome = await stopExecutor.execute(intent, { signal } as never);
    // Assert
    expect(outcome).toMatchObject({
      status: 'done',
      refs: {
        [only(fleet, 'a')]: 'stopped',
        [only(fleet, 'refuses')]: expect.stringMatching(/^not stopped: stop protection is on/),
        [only(fleet, 'b')]: 'stopped',
      },
    });
    expect(outcome.detail).toContain(
      `stopped 2 of 3 instance(s): ${only(fleet, 'a')}, ${only(fleet, 'b')}; 1 refused by stop protection`,
    );
    const seen = await instanceStates();
    expect(ids.map((id) => seen.get(id)?.state)).toEqual(['stopped', 'running', 'stopped']);
    const reason = seen.get(only(fleet, 'b'))?.tags['ops:stop-reason'] ?? '';
    expect(reason).toHaveLength(256);
    expect(reason).toMatch(/^idle-stop x+\.\.\.$/);
    expect(seen.get(only(fleet, 'a'))?.tags['ops:stop-reason']).toBe(reason);
    expect(seen.get(only(fleet, 'refuses'))?.tags['ops:stopped-by']).toBeUndefined();
  });

  it('stops optimistically: a stop-protected idle instance refuses, is excluded with the refusal as evidence, the others stop', async () => {
    // Arrange: three idle instances, the middle one stop-protected (moto refuses StopInstances for it).
    const fleet = await seedFleet([idle('a'), idle('protected', { disableApiStop: true }), idle('b')]);
    // Act
    const result = await invoke({});
    // Assert: no per-instance protection read; one StopInstances refused, resent without the refuser.
    expect(callsOf('DescribeInstanceAttributeCommand')).toHaveLength(0);
    expect(callsOf('StopInstancesCommand').map((c) => (c.input.InstanceIds as string[]).length)).toEqual([
      3, 2,
    ]);
    const seen = await instanceStates();
    expect(['a', 'protected', 'b'].map((name) => seen.get(only(fleet, name))?.state)).toEqual([
      'stopped',
      'running',
      'stopped',
    ]);
    expect(seen.get(only(fleet, 'protected'))?.tags['ops:stopped-by']).toBeUndefined();
    expect(decisionOf(result, only(fleet, 'protected'))).toMatchObject({
      decision: 'excluded',
      exclusion: 'stop-protection',
      reason: expect.stringMatching(
        /^Stop protection is on: StopInstances refused it \(OperationNotPermitted\)/,
      ),
    });
    expect(result).toMatchObject({
      outcomes: [
        { kind: 'ec2.stop-instances', status: 'done' },
        { kind: 'sns.page', status: 'done' },
      ],
      findings: { counts: { stop: 2, excluded: 1 } },
    });
    const [page] = await stack.readPages();
    expect(page?.body).toContain(
      `1 refused by stop protection (disableApiStop): ${only(fleet, 'protected')}`,
    );
  });

  it('makes no mutating call in a dry run with a stop-protected idle instance, and says protection was not read', async () => {
    // Arrange
    await seedFleet([idle('a'), idle('protected', { disableApiStop: true })]);
    // Act
    const result = await invoke(loadFixture('stopIdleInstances/manual-dry-run.json'));
    // Assert
    expect(calls.filter((c) => MUTATING.includes(c.command))).toEqual([]);
    expect(callsOf('DescribeInstanceAttributeCommand')).toHaveLength(0);
    expect([...(await instanceStates()).values()].map((i) => i.state)).toEqual(['running', 'running']);
    expect(result).toMatchObject({
      outcomes: [{ kind: 'ec2.stop-instances', status: 'skipped', reason: 'dry-run' }, { kind: 'sns.page' }],
      findings: { counts: { stop: 2 } },
    });
    const [page] = await stack.readPages();
    expect(page?.body).toContain('stop protection not read (a live run stops optimistically');
  });

  it('never stops beyond the first decision when a failed run is retried', async () => {
    // Arrange: 12 idle instances, a cap of 10, and a page that cannot be published (so the run fails).
    await seedFleet([idle('idle', { count: 12 })]);
    const event = loadFixture('stopIdleInstances/scheduled-event.json');
    // Act: Lambda retries the same delivery after the failure.
    const [first, retry] = await withUnreachableTopic(async () => [
      await invoke(event).catch((e: unknown) => e as Error),
      await invoke(structuredClone(event)).catch((e: unknown) => e as Error),
    ]);
    // Assert
    expect((first as Error).name).toBe('ActionFailedError');
    expect((first as Error).message).toContain('sns.page: could not send');
    expect((retry as Error).name).toBe('ActionFailedError');
    const seen = [...(await instanceStates()).values()];
    expect(seen.filter((i) => i.state === 'stopped')).toHaveLength(10);
    expect(new Set(stoppedIds()).size).toBe(10);
  });

  it('rejects an invalid payload or an override beyond the stage limits without calling AWS', async () => {
    // Arrange
    await seedFleet([idle('idle')]);
    setStageDryRun(true);
    const payloads = [
      loadFixture('stopIdleInstances/invalid/unknown-key.json'),
      loadFixture('stopIdleInstances/invalid/bad-threshold.json'),
      { maxStopsPerHour: 11 },
      { dryRun: false },
      loadFixture('stopIdleInstances/invalid/scheduled-dry-run.json'),
      { maxStopsPerRun: 5 },
    ];
    // Act
    const results = await Promise.allSettled(payloads.map(invoke));
    // Assert
    const errors = results.map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined));
    expect(errors.map((e) => e?.name)).toEqual(Array(6).fill('InvalidEventError'));
    expect(errors[0]?.message).toContain('unknown key(s) "dryrun"');
    expect(errors[2]?.message).toContain("maxStopsPerHour: 11 exceeds this stage's maxStopsPerHour of 10");
    expect(errors[3]?.message).toContain('dryRun: false is not allowed');
    expect(errors[4]?.message).toContain('unknown key(s) "dryRun"');
    expect(errors[5]?.message).toContain('"maxStopsPerRun" is now "maxStopsPerHour"');
    expect(calls).toEqual([]);
  });
});
