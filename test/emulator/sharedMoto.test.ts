import { CreateTopicCommand, ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import type { Moto } from '../../tools/local/moto.ts';
import { claimSharedMoto } from '../support/sharedMoto.ts';

// The emulator files share the run's motos (test/support/sharedMoto.ts) instead of starting one each:
// a file must still get a moto that is its own while it runs and that starts empty.

const snsAt = (moto: Moto) => new SNSClient({ endpoint: moto.endpoint });

const topicsAt = async (moto: Moto): Promise<string[]> =>
  ((await snsAt(moto).send(new ListTopicsCommand({}))).Topics ?? []).map((t) => t.TopicArn ?? '');

describe('the moto a test file claims', () => {
  it('is handed on to the next file emptied: same moto_server, none of the first file’s resources', async () => {
    // Arrange: a file leaves a topic behind and hands its moto on.
    const first = await claimSharedMoto();
    await snsAt(first).send(new CreateTopicCommand({ Name: 'left-by-the-first-file' }));
    expect(await topicsAt(first)).toHaveLength(1);
    await first.stop();
    // Act
    const next = await claimSharedMoto();
    try {
      // Assert: no second moto was started, and the next file sees nothing of the first's.
      expect(next.pid).toBe(first.pid);
      expect(next.endpoint).toBe(first.endpoint);
      expect(await topicsAt(next)).toEqual([]);
    } finally {
      await next.stop();
    }
  });

  it('is never the moto of another file still running', async () => {
    // Arrange: one file holds its moto.
    const running = await claimSharedMoto();
    try {
      await snsAt(running).send(new CreateTopicCommand({ Name: 'still-in-use' }));
      // Act: another file claims one meanwhile.
      const other = await claimSharedMoto();
      try {
        // Assert: another moto; the first file's state untouched by the second's reset.
        expect(other.pid).not.toBe(running.pid);
        expect(other.endpoint).not.toBe(running.endpoint);
        expect(await topicsAt(running)).toHaveLength(1);
        expect(await topicsAt(other)).toEqual([]);
      } finally {
        await other.stop();
      }
    } finally {
      await running.stop();
    }
  });
});
