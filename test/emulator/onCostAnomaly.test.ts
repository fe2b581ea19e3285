import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, setDryRun, startEmulatedStack } from '../support/emulator.ts';
import { loadFixture } from '../support/events.ts';
import { makeContext } from '../support/lambda.ts';
import { createLocalStack, type LocalStack } from '../support/localStack.ts';
import type { Moto } from '../support/moto.ts';

let moto: Moto;
let stack: LocalStack;
let handler: typeof import('#functions/onCostAnomaly/handler.ts').handler;

const STACK = 'ops-autopilot-cost';

beforeAll(async () => {
  moto = await startEmulatedStack(STACK);
  ({ handler } = await import('#functions/onCostAnomaly/handler.ts'));
  await sendStateTableCallsOneAtATime();
});

afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  stack = await createLocalStack(STACK);
  setDryRun(true);
});

const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const fixture = (name: string) => loadFixture<{ id: string }>(`onCostAnomaly/${name}`);

/** The documented sample as another delivery (a new event id) with the given total impact. */
function delivery(totalImpact: number) {
  const event = loadFixture<{ id: string; detail: { impact: { totalImpact: number } } }>(
    'onCostAnomaly/anomaly-detected.json',
  );
  event.id = crypto.randomUUID();
  event.detail.impact.totalImpact = totalImpact;
  return event;
}

describe('onCostAnomaly against the emulator', () => {
  it('pages an anomaly above the thresholds once, with its root causes and links', async () => {
    // Act
    await invoke(fixture('multiple-root-causes.json'));
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    const [page] = pages;
    expect(page?.subject).toBe(
      '[WARNING] cost.anomaly: Amazon Elastic Compute Cloud - Compute: +$1,001.00 (333.67 %) above expected',
    );
    expect(page?.body).toContain('Root causes (3)');
    expect(page?.body).toContain(
      'account 210987654321 (analytics-dev), usage type InstanceUsage:db.r5.large: $150.00',
    );
    expect(page?.body).toContain(
      'Cost Explorer: https://console.aws.amazon.com/cost-management/home#/cost-explorer?',
    );
    expect(page?.attributes).toMatchObject({ kind: 'cost.anomaly', severity: 'warning' });
  });

  it('pages nothing for an anomaly below the thresholds and records why in the action log', async () => {
    // Arrange
    const event = fixture('below-threshold.json');
    // Act
    await invoke(event);
    // Assert
    expect(await stack.readPages()).toHaveLength(0);
    const entries = (await stack.scanTable()).filter(
      (i) => i.type === 'action' && i.correlationId === event.id,
    );
    expect(entries).toEqual([
      expect.objectContaining({
        decision: 'skipped',
        reason: 'nothing-to-do',
        detail: expect.stringContaining("below the stage's cost anomaly thresholds"),
      }),
    ]);
  });

  it('pages an update with a larger impact again, as an update showing the change', async () => {
    // Arrange
    await invoke(fixture('anomaly-detected.json'));
    // Act
    await invoke(fixture('anomaly-updated.json'));
    // Assert
    const pages = await stack.readPages();
    expect(pages.map((p) => p.subject)).toEqual([
      '[WARNING] cost.anomaly: Amazon Elastic Compute Cloud - Compute: +$1,001.00 (333.67 %) above expected',
      '[WARNING] cost.anomaly: Update: Amazon Elastic Compute Cloud - Compute: +$2,102.00 (350.33 %) abo...',
    ]);
    expect(pages[1]?.body).toContain(
      'Update: the total impact rose from $1,001.00 (paged before) to $2,102.00 (+$1,101.00).',
    );
    expect(pages[1]?.attributes.pageId).not.toBe(pages[0]?.attributes.pageId);
  });

  it('counts an update with the same or a smaller impact without paging it', async () => {
    // Arrange
    await invoke(delivery(1001));
    // Act
    const same = await invoke(delivery(1001));
    const smaller = await invoke(delivery(900));
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
    for (const result of [same, smaller]) {
      expect(result.notes).toEqual([
        expect.objectContaining({
          reason: 'suppressed',
          detail: expect.stringContaining('is not larger: counted'),
        }),
      ]);
    }
  });

  it('pages nothing new for a duplicate delivery, in a row or at once', async () => {
    // Arrange
    const event = fixture('anomaly-detected.json');
    const other = delivery(1500);
    // Act
    await invoke(event);
    await invoke(structuredClone(event));
    await Promise.allSettled([invoke(other), invoke(structuredClone(other))]);
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(2);
    expect(pages[1]?.subject).toContain('Update:');
  });

  it('pages two different deliveries of one larger update once between them', async () => {
    // Arrange
    await invoke(delivery(1001));
    // Act
    await Promise.allSettled([invoke(delivery(2000)), invoke(delivery(2000))]);
    // Assert
    expect(await stack.readPages()).toHaveLength(2);
  });
});
