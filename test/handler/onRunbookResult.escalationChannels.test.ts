import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { resultPageExecutor } from '#functions/onRunbookResult/pageClaim.ts';
import { planRunbookResult, type RunbookResultPageIntent } from '#functions/onRunbookResult/plan.ts';
import { RunbookResultEvent } from '#functions/onRunbookResult/schema.ts';
import { observeRunbookResult } from '#functions/onRunbookResult/signal.ts';
import type { StoredAutomationExecution } from '#shared/state/automationExecutions.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

// Found by an adversarial review (the third).
// docs/PAGING.md, "Every page goes out in up to three formats, one SNS topic each", and the
// pager topic is where PagerDuty and Opsgenie subscribe. onRunbookResult's escalation ("the automation
// did not fix it: someone needs to act") was published by an executor of its own to the text topic
// only: on a stack whose on-call is paged through PagerDuty or Opsgenie, a failed runbook never reached
// them, nor the chat channel. It now goes through the one page executor, with its own claim.

const aws = await mockAwsClients();
const sns = aws.of(SNSClient);
const documents = aws.of(DynamoDBDocumentClient);

const TEXT = 'arn:aws:sns:us-east-1:123456789012:pages';
const CHAT = 'arn:aws:sns:us-east-1:123456789012:pages-chat';
const PAGER = 'arn:aws:sns:us-east-1:123456789012:pages-pager';

beforeEach(() => {
  sns.reset();
  documents.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  // The claim, the sent mark and any per-channel record succeed; nothing was sent before.
  documents.on(UpdateCommand).resolves({});
  aws.answerAsEmptyStateTable();
});

describe("onRunbookResult's escalation on a stack with chat and pager topics", () => {
  it('reaches the pager and chat topics, as every other page does', async () => {
    // Arrange: the record onAlarm wrote for the failed execution of the sample event.
    const event = RunbookResultEvent.parse(loadFixture('onRunbookResult/execution-failed.json'));
    const observed = observeRunbookResult(event);
    const execution: StoredAutomationExecution = {
      executionId: observed.facts.executionId,
      document: observed.facts.document,
      rule: 'restart-unresponsive-instance',
      incidentKey: `arn:aws:cloudwatch:${event.region}:${event.account}:alarm:web-status-check`,
      correlationId: 'alarm-delivery-1',
      account: event.account,
      region: event.region,
      signal: {
        kind: 'alarm.state-change',
        title: 'web-status-check is ALARM',
        summary: 'Threshold Crossed',
        occurredAt: '2016-11-29T19:40:00.000+0000',
        links: [],
      },
      severity: 'critical',
      pageId: 'page-of-the-alarm',
      startedAt: 1_480_448_400,
    };
    const config = makeConfig(
      {},
      { pageTopicArn: TEXT, pageChatTopicArn: CHAT, pagePagerTopicArn: PAGER, dryRun: false },
    );
    const plan = planRunbookResult({ ...observed, gathered: { execution }, config });
    const [intent] = plan.intents as RunbookResultPageIntent[];
    expect(intent?.result.notice).toBe('escalation');
    // Act
    const outcome = await resultPageExecutor.execute(intent as RunbookResultPageIntent, {
      config,
      signal: observed.signal,
      prior: [],
    });
    // Assert
    expect(outcome.status).toBe('done');
    const topics = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn);
    expect(topics).toEqual(expect.arrayContaining([TEXT, CHAT, PAGER]));
  });
});
