import { describe, expect, it } from 'vitest';
import type { StopInstancesIntent } from '#shared/domain/intent.ts';
import { stopListNow } from '#shared/idle/approval.ts';

// Issue 20: what approveAction checks again of an approved idle stop list, before it stops anything.
const intent = (target?: StopInstancesIntent['target']): StopInstancesIntent => ({
  kind: 'ec2.stop-instances',
  instances: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1', reason: 'Idle over 24 h' }],
  reason: '1 instance(s) idle over the last 24 h',
  tagReason: 'idle-stop',
  maxStopsPerHour: 10,
  ...(target ? { target } : {}),
});

describe("an approved idle stop list's re-check", () => {
  it('under opt-out keeps an untagged running instance that opt-in would skip', () => {
    // Arrange
    const untagged = {
      instances: [
        {
          instanceId: 'i-0aaaaaaaaaaaaaaa1',
          instanceType: 'm5.large',
          state: 'running',
          tags: {},
          rootDeviceType: 'ebs',
        },
      ],
    };
    // Act
    const optOut = stopListNow(JSON.stringify(intent()), untagged, { scope: 'opt-out' });
    const optIn = stopListNow(JSON.stringify(intent()), untagged, { scope: 'opt-in' });
    // Assert
    expect(optOut).toMatchObject({
      intent: { instances: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1' }] },
      skipped: [],
    });
    expect(optIn).toEqual({ refusal: expect.stringContaining('Scope is opt-in') });
  });
});
