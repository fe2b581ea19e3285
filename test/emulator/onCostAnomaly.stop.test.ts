import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, setDryRun } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { type InstanceGroup, instanceStates, seedFleet } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';

// onCostAnomaly stopping the account's opted-in idle instances through the idle stopper, against moto:
// its fleet reading and metrics, its verdicts, its executor, and the hourly budget it shares with
// stopIdleInstances. The dev stage turns the option on from $2,000; its idleStop.maxStopsPerHour is 10.

type Handler = (event: never, context: ReturnType<typeof makeContext>) => Promise<unknown>;

interface Call {
  command: string;
  input: Record<string, unknown>;
}

let onCostAnomaly: Handler;
let stopIdleInstances: Handler;
const calls: Call[] = [];
const STACK = 'ops-autopilot-cost-stop';
const MUTATING = ['StopInstancesCommand', 'CreateTagsCommand'];

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler: onCostAnomaly } = await import('#functions/onCostAnomaly/handler.ts'));
  ({ handler: stopIdleInstances } = await import('#functions/stopIdleInstances/handler.ts'));
  await sendStateTableCallsOneAtATime();
  const { ec2 } = await import('#shared/aws/ec2.ts');
  ec2.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: context.commandName ?? '?', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordEc2CallsForTests' },
  );
});

afterAll(async () => {
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  resetConfigForTests();
});

beforeEach(async () => {
  calls.length = 0;
});

/**
 * Invokes one function as deployed: its own name, so each keeps its own records (idempotency, stop
 * lists, action log) under its own prefix, as IAM holds it to, and only the budget is shared.
 */
async function invokeAs<T = PipelineResult>(fn: string, handler: Handler, event: unknown): Promise<T> {
  const name = `ops-autopilot-dev-${fn}`;
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  resetConfigForTests();
  return (await handler(event as never, makeContext(name))) as T;
}

const anomaly = () => loadFixture<{ id: string }>('onCostAnomaly/ec2-above-stop-threshold.json');
const invokeAnomaly = (event: unknown = anomaly()) => invokeAs('onCostAnomaly', onCostAnomaly, event);
const stopCalls = () => calls.filter((c) => c.command === 'StopInstancesCommand');
const stoppedIds = () => stopCalls().flatMap((c) => c.input.InstanceIds as string[]);

const idle = (name: string, extra: Partial<InstanceGroup> = {}): InstanceGroup => ({
  name,
  tags: { 'ops:auto-stop': 'true' },
  cpu: { hours: 24, value: 1 },
  network: { hours: 24, value: 20_000 },
  ...extra,
});

describe('onCostAnomaly stopping idle instances, against the emulator', () => {
  it('stops nothing and spends no budget on a dry-run stage, and pages which instances it would stop with their evidence', async () => {
    // Arrange
    setDryRun(true);
    const fleet = await seedFleet([idle('idle', { count: 2 }), idle('untagged', { tags: {} })]);
    // Act
    const result = await invokeAnomaly();
    // Assert
    expect(calls.filter((c) => MUTATING.includes(c.command))).toEqual([]);
    const seen = await instanceStates();
    expect(fleet.all.map((id) => seen.get(id)?.state)).toEqual(['running', 'running', 'running']);
    const table = await stack.scanTable();
    expect(table.filter((i) => String(i.id).includes('stop-budget'))).toEqual([]);
    expect(result.outcomes[0]).toMatchObject({
      kind: 'ec2.stop-instances',
      status: 'skipped',
      reason: 'dry-run',
    });
    const [page, ...more] = await stack.readPages();
    expect(more).toEqual([]);
    expect(page?.body).toContain('SKIPPED (dry-run) ec2.stop-instances: would stop 2 instance(s)');
    for (const id of fleet.ids.idle ?? []) {
      expect(page?.body).toMatch(new RegExp(`stop +${id} +t3\\.micro +1 % +40 KB +24/24`));
    }
    expect(page?.body).toContain('Excluded: 1 (not-opted-in 1)');
  });

  it('stops and tags the idle opted-in instances on a live stage, and the page lists them', async () => {
    // Arrange
    const fleet = await seedFleet([
      idle('idle', { count: 2 }),
      idle('busy', { cpu: { hours: 24, value: 70 } }),
      idle('untagged', { tags: {} }),
    ]);
    // Act
    await invokeAnomaly();
    // Assert
    const seen = await instanceStates();
    const idleIds = fleet.ids.idle ?? [];
    expect(fleet.all.filter((id) => seen.get(id)?.state === 'stopped').sort()).toEqual([...idleIds].sort());
    for (const id of idleIds) {
      expect(seen.get(id)?.tags['ops:stopped-by']).toBe('ops-autopilot');
      expect(seen.get(id)?.tags['ops:stop-reason']).toMatch(
        /^cost anomaly 34567890-cdef-1234-5678-109876543c34 \(\+\$4,250\.00\): idle-stop: hourly CPU max < /,
      );
    }
    const [page] = await stack.readPages();
    expect(page?.body).toMatch(/DONE ec2\.stop-instances: stopped 2 of 2 instance\(s\): i-/);
    for (const id of idleIds) expect(page?.body).toContain(id);
  });

  it('stops nothing twice for duplicate deliveries, in a row or at once', async () => {
    // Arrange
    const fleet = await seedFleet([idle('idle', { count: 3 })]);
    const event = anomaly();
    const other = { ...anomaly(), id: crypto.randomUUID() };
    // Act: two deliveries of one update at once, then a redelivery of the first
    await Promise.allSettled([invokeAnomaly(event), invokeAnomaly(other)]);
    await invokeAnomaly(structuredClone(event));
    // Assert
    const stopped = stoppedIds();
    expect(new Set(stopped).size).toBe(stopped.length);
    expect([...stopped].sort()).toEqual([...(fleet.ids.idle ?? [])].sort());
    expect(await stack.readPages()).toHaveLength(1);
  });

  it('never stops more than the hourly limit between stopIdleInstances and onCostAnomaly, one after the other', async () => {
    // Arrange: 14 idle opted-in instances; the idle scan may take 6 of the hour's 10 stops
    await seedFleet([idle('idle', { count: 14 })]);
    // Act
    await invokeAs('stopIdleInstances', stopIdleInstances, { maxStopsPerHour: 6 });
    const result = await invokeAnomaly();
    // Assert
    expect(stoppedIds()).toHaveLength(10);
    expect(new Set(stoppedIds()).size).toBe(10);
    expect(result.notes).toContainEqual(
      expect.objectContaining({
        reason: 'capped',
        detail: expect.stringContaining('6 already made in the last hour'),
      }),
    );
    const seen = await instanceStates();
    expect([...seen.values()].filter((i) => i.state === 'stopped')).toHaveLength(10);
  });

  it('never stops more than the hourly limit between stopIdleInstances and onCostAnomaly at once', async () => {
    // Arrange: one process has one environment, so here both run under the name set last; the test
    // above holds each to its own name. This one races their claims on the one budget.
    await seedFleet([idle('idle', { count: 14 })]);
    // Act
    await Promise.all([
      invokeAs('stopIdleInstances', stopIdleInstances, {}),
      invokeAs('onCostAnomaly', onCostAnomaly, anomaly()),
    ]);
    // Assert
    const seen = await instanceStates();
    expect([...seen.values()].filter((i) => i.state === 'stopped')).toHaveLength(10);
    expect(new Set(stoppedIds()).size).toBeLessThanOrEqual(10);
  });
});
