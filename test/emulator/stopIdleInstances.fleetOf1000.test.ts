import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAwsClients } from '../../tools/awsClients.ts';
import { type InstanceGroup, instanceStates, seedFleet } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { useEmulatedStack } from '../support/emulator.ts';

// Issue 21: at 1,000 instances one 500-query GetMetricData page outlasted the shipped 15 s request
// timeout on moto and the scan stopped nothing. Here the shipped clients (timeouts, retries) scan
// 1,000 instances on moto; every AWS call of the run is counted, on every client the function uses.

let handler: typeof import('#functions/stopIdleInstances/handler.ts').handler;
const STACK = 'ops-autopilot-idle-1000';
/** Every AWS call of the run, by command name, whatever the client. */
const calls: string[] = [];

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/stopIdleInstances/handler.ts'));
  // The document client shares its DynamoDB client's middleware stack: one counter per stack.
  const stacks = new Set<unknown>();
  for (const { client } of await loadAwsClients()) {
    if (stacks.has(client.middlewareStack)) continue;
    stacks.add(client.middlewareStack);
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: unknown) => {
          calls.push(String(context.commandName));
          return next(args);
        },
      { step: 'initialize', name: 'countEveryCallForTests' },
    );
  }
}, 60_000);

beforeEach(() => {
  calls.length = 0;
});

const OPT_IN = { 'ops:auto-stop': 'true' };
/** The stage's shortest lookback (6 h) keeps moto's GetMetricData (every datapoint per query and hour) tractable. */
const LOOKBACK_HOURS = 6;
const quiet = (cpu: number): Pick<InstanceGroup, 'tags' | 'cpu' | 'network'> => ({
  tags: OPT_IN,
  cpu: { hours: LOOKBACK_HOURS, value: cpu },
  network: { hours: LOOKBACK_HOURS, value: 20_000 },
});

describe('the idle scan of 1,000 instances on moto with the shipped timeouts', () => {
  it('stops exactly the 10 quietest idle opted-in instances (the hourly limit) in at most 40 AWS calls', async () => {
    // Arrange: 800 busy, 100 idle (the 10 quietest at 0.5 % CPU), 100 excluded (EKS-managed, not opted in).
    const fleet = await seedFleet([
      { name: 'busy', count: 800, tags: OPT_IN, cpu: { hours: 1, value: 55 }, instanceType: 'm5.large' },
      { name: 'quietest', count: 10, ...quiet(0.5) },
      { name: 'idle', count: 90, ...quiet(1) },
      { name: 'eks', count: 50, tags: { ...OPT_IN, 'eks:cluster-name': 'main' } },
      { name: 'untagged', count: 50 },
    ]);
    // Act
    const result = await handler({ lookbackHours: LOOKBACK_HOURS } as never, makeContext());
    // Assert
    const quietest = [...(fleet.ids.quietest ?? [])].sort();
    const seen = await instanceStates();
    const stopped = fleet.all.filter((id) => seen.get(id)?.state === 'stopped').sort();
    expect(stopped).toEqual(quietest);
    expect(result).toMatchObject({
      outcomes: [
        { kind: 'ec2.stop-instances', status: 'done' },
        { kind: 'sns.page', status: 'done' },
      ],
      findings: {
        counts: { considered: 1000, stop: 10, capped: 90, spared: 800, excluded: 100 },
        scanStats: { metricPagesFailed: 0, instancesUnreadable: 0 },
      },
    });
    expect(calls.filter((c) => c === 'DescribeInstanceAttributeCommand')).toHaveLength(0);
    expect(calls.length, calls.join(', ')).toBeLessThanOrEqual(40);
  }, 300_000);
});
