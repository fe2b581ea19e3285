import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { PackagedRule } from './packaged.ts';

/**
 * The packaged template's rules, put into the emulator's EventBridge with an SQS queue standing in
 * for each function. route() publishes an event and reports which functions it reached.
 */
export interface Router {
  functions: string[];
  route(event: Record<string, unknown>): Promise<string[]>;
}

export async function installRouter(rules: PackagedRule[]): Promise<Router> {
  const events = new EventBridgeClient({});
  const sqs = new SQSClient({});
  const queues = new Map<string, string>();
  for (const fn of new Set(rules.map((r) => r.functionName))) {
    const q = await sqs.send(new CreateQueueCommand({ QueueName: `route-${fn}` }));
    queues.set(fn, q.QueueUrl as string);
  }
  for (const rule of rules) {
    await events.send(new PutRuleCommand({ Name: rule.name, EventPattern: JSON.stringify(rule.pattern) }));
    const url = queues.get(rule.functionName) as string;
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule.name,
        Targets: [{ Id: rule.functionName, Arn: attrs.Attributes?.QueueArn as string }],
      }),
    );
  }

  async function drain(url: string): Promise<number> {
    let count = 0;
    for (;;) {
      const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      const messages = res.Messages ?? [];
      if (messages.length === 0) return count;
      count += messages.length;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
        }),
      );
    }
  }

  return {
    functions: [...queues.keys()],
    async route(event) {
      const res = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: String(event.source),
              DetailType: String(event['detail-type']),
              Detail: JSON.stringify(event.detail ?? {}),
              Resources: Array.isArray(event.resources) ? event.resources.map(String) : [],
              ...(typeof event.time === 'string' ? { Time: new Date(event.time) } : {}),
            },
          ],
        }),
      );
      if ((res.FailedEntryCount ?? 0) > 0)
        throw new Error(`PutEvents refused the event: ${JSON.stringify(res.Entries)}`);
      const reached: string[] = [];
      for (const [fn, url] of queues) if ((await drain(url)) > 0) reached.push(fn);
      return reached.sort();
    },
  };
}

/** Only EventBridge-shaped fixtures can be put on a bus; manual payloads are invoked directly. */
export function isEventBridgeEvent(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'source' in value && 'detail-type' in value;
}
