import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resetConfigForTests } from '#shared/config.ts';
import { UNPAIRED_SURROGATE } from '#shared/domain/text.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { encodeLikeTheQueryProtocol } from '../support/unicode.ts';

// Handler layer: every AWS client mocked, so failure paths can be forced.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);
const budgets = aws.of(BudgetsClient);
let handler: typeof import('#functions/onCostAnomaly/handler.ts').handler;

beforeAll(async () => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  ({ handler } = await import('#functions/onCostAnomaly/handler.ts'));
});

beforeEach(() => {
  aws.reset();
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  // An empty table: every conditional write succeeds, nothing is in progress.
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
});

const invoke = (event: unknown) => handler(event as never, makeContext());

describe('onCostAnomaly handler: invalid events', () => {
  const invalid = listFixtures().filter((f) => f.startsWith('onCostAnomaly/invalid/'));

  it('has invalid fixtures to check', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(5);
  });

  it.each(invalid)(
    'rejects %s with an error naming the field, reads and pages nothing, counts InvalidEvent',
    async (fixture) => {
      // Arrange
      const addMetric = vi.spyOn(metrics, 'addMetric');
      // Act
      const error = await invoke(loadFixture(fixture)).catch((e: unknown) => e);
      // Assert
      expect((error as Error).name).toBe('InvalidEventError');
      expect((error as Error).message).toMatch(/^onCostAnomaly: invalid event: detail\.\S+: /);
      expect(sns.calls()).toHaveLength(0);
      expect(budgets.calls()).toHaveLength(0);
      expect(documents.calls()).toHaveLength(0);
      expect(addMetric).toHaveBeenCalledWith('InvalidEvent', 'Count', 1);
      addMetric.mockRestore();
    },
  );
});

describe('onCostAnomaly handler: budgets and metrics', () => {
  it('pages on time when DescribeBudgets is throttled, saying the budget context is missing and why', async () => {
    // Arrange
    budgets.on(DescribeBudgetsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    // Act
    await invoke(loadFixture('onCostAnomaly/anomaly-detected.json'));
    // Assert
    const published = sns.commandCalls(PublishCommand);
    expect(published).toHaveLength(1);
    expect(published[0]?.args[0].input.Message).toContain(
      'Budget context missing: the Budgets API could not be read (ThrottlingException: Rate exceeded).',
    );
  });

  it('counts an anomaly below the thresholds as CostAnomaliesBelowThreshold, without a page', async () => {
    // Arrange
    const addMetric = vi.spyOn(metrics, 'addMetric');
    // Act
    await invoke(loadFixture('onCostAnomaly/below-threshold.json'));
    // Assert
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(addMetric).toHaveBeenCalledWith('CostAnomaliesBelowThreshold', 'Count', 1);
    addMetric.mockRestore();
  });
});

describe('onCostAnomaly handler: unpaired surrogates', () => {
  it.each([
    ['lone-surrogate-details-link.json', 'detail.anomalyDetailsLink'],
    ['lone-surrogate-monitor-arn.json', 'detail.monitorArn'],
  ])(
    'refuses %s naming %s, before any AWS call, instead of a page that can never be sent',
    async (fixture, field) => {
      // Arrange: SNS encodes the page as its query protocol does, so a page with the surrogate throws URIError.
      sns.on(PublishCommand).callsFake((input: unknown) => {
        encodeLikeTheQueryProtocol(input);
        return { MessageId: 'm-1' };
      });
      // Act
      const error = await invoke(loadFixture(`onCostAnomaly/invalid/${fixture}`)).catch((e: unknown) => e);
      // Assert
      expect(error).toMatchObject({ name: 'InvalidEventError' });
      expect((error as Error).message).toContain(`${field}: ${UNPAIRED_SURROGATE}`);
      expect(aws.calls()).toEqual([]);
    },
  );
});
