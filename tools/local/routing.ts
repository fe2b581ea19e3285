import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { PackagedRule } from './packaged.ts';

/**
 * The packaged template's rules, put into the emulator's EventBridge with an SQS queue standing in
 * for the functions. route() publishes an event and reports which functions it reached.
 */
export interface Router {
  functions: string[];
  route(event: Record<string, unknown>): Promise<string[]>;
}

/** Longer than any run: a message once read stays out of sight, so it is counted once without a delete. */
const READ_ONCE_SECONDS = 12 * 60 * 60;

let routers = 0;

export async function installRouter(rules: PackagedRule[]): Promise<Router> {
  const events = new EventBridgeClient({});
  const sqs = new SQSClient({});
  // One queue for every function of this router, each target naming its function in the message it
  // delivers: a route reads one queue, not one per function (the routing tests route hundreds of events).
  const { QueueUrl: url } = await sqs.send(
    new CreateQueueCommand({ QueueName: `route-${process.pid}-${++routers}` }),
  );
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  for (const rule of rules) {
    await events.send(new PutRuleCommand({ Name: rule.name, EventPattern: JSON.stringify(rule.pattern) }));
    await events.send(
      new PutTargetsCommand({
        Rule: rule.name,
        Targets: [
          {
            Id: rule.functionName,
            Arn: attrs.Attributes?.QueueArn as string,
            InputTransformer: {
              InputPathsMap: { source: '$.source' },
              InputTemplate: JSON.stringify({ function: rule.functionName, source: '<source>' }),
            },
          },
        ],
      }),
    );
  }

  /** The functions named by the messages that arrived since the last read. */
  async function reachedSinceLastRead(): Promise<Set<string>> {
    const reached = new Set<string>();
    for (;;) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: READ_ONCE_SECONDS,
        }),
      );
      const messages = res.Messages ?? [];
      if (messages.length === 0) return reached;
      for (const m of messages)
        reached.add((JSON.parse(m.Body ?? '{}') as { function?: string }).function ?? '');
    }
  }

  return {
    functions: [...new Set(rules.map((r) => r.functionName))],
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
      return [...(await reachedSinceLastRead())].sort();
    },
  };
}

/** Only EventBridge-shaped fixtures can be put on a bus; manual payloads are invoked directly. */
export function isEventBridgeEvent(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'source' in value && 'detail-type' in value;
}
