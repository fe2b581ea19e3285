import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { withUnreachableTopic } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { type InstanceGroup, seedFleet } from '../../tools/local/fleet.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';

// Found by an adversarial review (issue 6).
// A retried idle scan re-plans against the fleet its first attempt changed. What
// that attempt stopped is no longer running, so the retry finds nothing to stop and pages nothing: the
// summary page of the stops is lost for good (the README: "a failed action is paged and then rethrown,
// so Lambda retries the delivery"; "loses nothing").

let handler: typeof import('#functions/stopIdleInstances/handler.ts').handler;
const STACK = 'ops-autopilot-idle-retry';

useEmulatedStack(STACK, { dryRun: false });

beforeAll(async () => {
  ({ handler } = await import('#functions/stopIdleInstances/handler.ts'));
});

const invoke = (event: unknown) => handler(event as never, makeContext());
const idle = (name: string, extra: Partial<InstanceGroup> = {}): InstanceGroup => ({
  name,
  tags: { 'ops:auto-stop': 'true' },
  cpu: { hours: 24, value: 1 },
  network: { hours: 24, value: 20_000 },
  ...extra,
});

describe('a scheduled idle scan whose page failed, retried by Lambda', () => {
  it('still pages the stops its first attempt made', async () => {
    // Arrange: three idle instances (under the hourly limit); the first attempt's publish fails
    // (SNS throttled, KMS key briefly unavailable...), so the run fails and Lambda retries it.
    const fleet = await seedFleet([idle('idle', { count: 3 })]);
    const event = loadFixture('stopIdleInstances/scheduled-event.json');
    const first = await withUnreachableTopic(() => invoke(event).catch((e: unknown) => e as Error));
    expect((first as Error).name).toBe('ActionFailedError');
    expect(await stack.readPages()).toHaveLength(0);
    const res = await new EC2Client({}).send(new DescribeInstancesCommand({ InstanceIds: fleet.all }));
    const states = (res.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    expect(states).toEqual(['stopped', 'stopped', 'stopped']);

    // Act: Lambda's retry of the same delivery, with SNS healthy again.
    await invoke(structuredClone(event));

    // Assert: someone is told that three instances were stopped.
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    for (const id of fleet.all) expect(pages[0]?.body).toContain(id);
  });
});
