import { BudgetsClient, CreateBudgetCommand } from '@aws-sdk/client-budgets';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { sendStateTableCallsOneAtATime, withUnreachableTopic } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { stack, useEmulatedStack } from '../support/emulator.ts';
import { costAnomaly } from '../support/events/index.ts';
import { latch } from '../support/latch.ts';

let handler: typeof import('#functions/onCostAnomaly/handler.ts').handler;

const STACK = 'ops-autopilot-cost';
/** How the Budgets API misbehaves for the next calls, if it does. */
let budgetsFault: 'throttled' | 'denied' | 'silent' | undefined;
let budgetCalls = 0;
/** Opened after each test: what a silent Budgets API holds its calls until. */
let testOver = latch();

useEmulatedStack(STACK, { dryRun: true });

beforeAll(async () => {
  ({ handler } = await import('#functions/onCostAnomaly/handler.ts'));
  await sendStateTableCallsOneAtATime();
  const { budgets } = await import('#functions/onCostAnomaly/budgets.ts');
  budgets.middlewareStack.add(
    (next) => async (args) => {
      budgetCalls++;
      const fault = budgetsFault;
      if (fault === 'throttled' || fault === 'denied') {
        const [name, status] =
          fault === 'throttled' ? ['ThrottlingException', 400] : ['AccessDeniedException', 403];
        throw Object.assign(new Error(`Budgets says ${name}`), {
          name,
          $metadata: { httpStatusCode: status },
        });
      }
      if (fault === 'silent') {
        // Answers only once the test is over: the function must not wait for it.
        await testOver.opened;
        throw Object.assign(new Error('Budgets answered after the test'), { name: 'TimeoutError' });
      }
      return next(args);
    },
    { step: 'finalizeRequest', name: 'budgetsFaultsForTests' },
  );
});

beforeEach(async () => {
  budgetsFault = undefined;
  budgetCalls = 0;
  testOver = latch();
});

afterEach(() => {
  testOver.open();
});

/** A monthly cost budget in moto, with the spend AWS would have calculated for it. */
async function createBudget(
  name: string,
  limit: number,
  actual: number,
  forecasted: number,
  linkedAccounts?: string[],
) {
  await new BudgetsClient({}).send(
    new CreateBudgetCommand({
      AccountId: '123456789012',
      Budget: {
        BudgetName: name,
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: String(limit), Unit: 'USD' },
        CalculatedSpend: {
          ActualSpend: { Amount: String(actual), Unit: 'USD' },
          ForecastedSpend: { Amount: String(forecasted), Unit: 'USD' },
        },
        ...(linkedAccounts ? { CostFilters: { LinkedAccount: linkedAccounts } } : {}),
      },
    }),
  );
}

const invoke = (event: unknown) => handler(event as never, makeContext()) as Promise<PipelineResult>;
const fixture = (name: string) => loadFixture<{ id: string }>(`onCostAnomaly/${name}`);

/** The documented sample as another delivery (a new event id) with the given total impact. */
function delivery(totalImpact: number) {
  return costAnomaly('anomaly-detected', { id: crypto.randomUUID(), impact: { totalImpact } });
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

  it("keeps an update's Update wording when its publish failed and Lambda retries the delivery", async () => {
    // Arrange: the first page went out; the update's publish failed after its claim
    await invoke(fixture('anomaly-detected.json'));
    const update = fixture('anomaly-updated.json');
    const failedAttempt = await withUnreachableTopic(() => invoke(update)).catch((e: unknown) => e);
    // Act
    await invoke(structuredClone(update));
    // Assert
    expect((failedAttempt as Error).name).toBe('ActionFailedError');
    const pages = await stack.readPages();
    expect(pages.map((p) => p.subject)).toEqual([
      '[WARNING] cost.anomaly: Amazon Elastic Compute Cloud - Compute: +$1,001.00 (333.67 %) above expected',
      '[WARNING] cost.anomaly: Update: Amazon Elastic Compute Cloud - Compute: +$2,102.00 (350.33 %) abo...',
    ]);
    expect(pages[1]?.body).toContain(
      'Update: the total impact rose from $1,001.00 (paged before) to $2,102.00 (+$1,101.00).',
    );
  });

  it('counts an update with the same or a smaller impact without paging it', async () => {
    // Arrange
    await invoke(delivery(1001));
    // Act
    const same = await invoke(delivery(1001));
    const smaller = await invoke(delivery(900));
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
    // The page's claim decides (its conditional write knows what was paged): the page's outcome says so.
    for (const result of [same, smaller]) {
      expect(result.outcomes).toEqual([
        expect.objectContaining({
          kind: 'sns.page',
          reason: 'suppressed',
          detail: expect.stringContaining('is not larger: counted'),
        }),
      ]);
    }
    // What was paged comes from the claim's own write (its old item), not from a read before it.
    expect(smaller.outcomes[0]?.detail).toContain('was paged at $1,001.00; this update ($900.00)');
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

  it('shows the budgets that cover the affected account, from the Budgets API', async () => {
    // Arrange
    await createBudget('company-monthly', 10_000, 6_000, 9_500);
    await createBudget('analytics-dev-monthly', 2_000, 900, 1_800, ['210987654321']);
    await createBudget('payments-monthly', 5_000, 4_000, 5_500, ['123456789012']);
    // Act
    await invoke(fixture('linked-account.json'));
    // Assert
    const [page] = await stack.readPages();
    expect(page?.body).toContain('Budgets covering account 210987654321 (2)');
    expect(page?.body).toContain(
      '  - company-monthly (monthly): limit $10,000.00, actual $6,000.00 (60 %), forecast $9,500.00 (95 %); this anomaly is 8.4 % of the limit',
    );
    expect(page?.body).toContain(
      '  - analytics-dev-monthly (monthly): limit $2,000.00, actual $900.00 (45 %), forecast $1,800.00 (90 %); this anomaly is 42 % of the limit',
    );
    expect(page?.body).not.toContain('payments-monthly');
  });

  it.each([
    ['throttled', 'ThrottlingException: Budgets says ThrottlingException'],
    ['denied', 'AccessDeniedException: Budgets says AccessDeniedException'],
    ['silent', 'the Budgets API did not answer within 3 s'],
  ] as const)(
    'still pages when the Budgets API is %s, saying the budget context is missing and why',
    async (fault, why) => {
      // Arrange
      await createBudget('company-monthly', 10_000, 6_000, 9_500);
      budgetsFault = fault;
      // Act
      const result = await invoke(fixture('anomaly-detected.json'));
      // Assert
      expect(result.outcomes).toEqual([expect.objectContaining({ kind: 'sns.page', status: 'done' })]);
      const pages = await stack.readPages();
      expect(pages).toHaveLength(1);
      expect(pages[0]?.body).toContain(`Budget context missing: the Budgets API could not be read (${why}).`);
      expect(pages[0]?.body).toContain('Root causes (1)');
      // A throttled call is retried once, not until the page is late.
      expect(budgetCalls).toBeLessThanOrEqual(2);
    },
  );

  it('asks the Budgets API nothing for an anomaly below the thresholds', async () => {
    // Act
    await invoke(fixture('below-threshold.json'));
    // Assert
    expect(budgetCalls).toBe(0);
  });
});
