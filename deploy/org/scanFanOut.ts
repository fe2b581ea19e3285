/**
 * An organization's idle scan fans out through SQS (docs/ORGANIZATION.md): for each function whose
 * deployment describes `orgFanOut`, a queue of scan targets, its dead-letter queue and an alarm on it,
 * and the event source mapping that hands the function one target per invocation, a bounded number at
 * once. SQS rather than a Step Functions Map: the stack already runs on queues and their alarms, a
 * target's failure is retried and parked per message with no state machine to operate, and the same
 * function consumes it, so its role, its deadlines and its page are those of any run.
 */
import type { RegistryEntry } from '#functions/index.ts';
import type { CfnResource, Resources, StackTarget } from '../stack/names.ts';
import { checkedName } from './names.ts';

/** SQS's longest retention: a target no run could scan stays for someone to look at. */
const DLQ_RETENTION_SECONDS = 1_209_600;
/** Lambda's advice for a queue it polls: six times the function's timeout (and its batching window). */
const VISIBILITY_TIMEOUTS_PER_RUN = 6;
/** The environment variable that tells the scheduled run where to queue (shared/config.ts). */
export const ORG_SCAN_QUEUE_URL = 'ORG_SCAN_QUEUE_URL';

/**
 * The fan-out resources of every function that describes one, and its queue's URL in the function's
 * environment (`resources` holds the function, patched in place).
 */
export function scanFanOutResources(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  lambdaIds: ReadonlyMap<string, string>,
  resources: Resources,
): Resources {
  const added: Resources = {};
  for (const { name, deployment } of registry) {
    const fanOut = deployment.orgFanOut;
    if (fanOut === undefined) continue;
    const lambdaId = lambdaIds.get(name);
    const lambda = lambdaId === undefined ? undefined : resources[lambdaId];
    if (lambdaId === undefined || lambda === undefined)
      throw new Error(`ops-autopilot: ${name} is not in the template`);
    const queueName = checkedName(`ops-autopilot-${target.stage}-${fanOut.queue}`, 'queue', 76);
    const dlqId = `${fanOut.queueId}DeadLetter`;
    added[dlqId] = {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: `${queueName}-dlq`,
        MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
        SqsManagedSseEnabled: true,
      },
    };
    added[fanOut.queueId] = {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: queueName,
        // A target not scanned within the hour is overtaken by the next scheduled run.
        MessageRetentionPeriod: 3600,
        VisibilityTimeout: VISIBILITY_TIMEOUTS_PER_RUN * (deployment.timeout ?? 60),
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
          maxReceiveCount: fanOut.maxReceiveCount,
        },
      },
    };
    added[`${fanOut.queueId}Mapping`] = {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': [fanOut.queueId, 'Arn'] },
        FunctionName: { Ref: lambdaId },
        // One target per invocation: a slow or failing account holds up no other message.
        BatchSize: 1,
        ScalingConfig: { MaximumConcurrency: fanOut.maximumConcurrency },
        Enabled: true,
      },
    };
    added[`${fanOut.queueId}DeadLetterAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${queueName}-dlq-not-empty`,
        AlarmDescription: `A scan target ${name} could not scan after ${fanOut.maxReceiveCount} receives is in its dead-letter queue; it clears when the queue is emptied`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'PageTopic' }],
        OKActions: [{ Ref: 'PageTopic' }],
      },
    };
    withEnvironment(lambda, ORG_SCAN_QUEUE_URL, { Ref: fanOut.queueId });
  }
  return added;
}

function withEnvironment(lambda: CfnResource, key: string, value: unknown): void {
  const environment = (lambda.Properties.Environment ?? {}) as { Variables?: Record<string, unknown> };
  lambda.Properties.Environment = { ...environment, Variables: { ...environment.Variables, [key]: value } };
}
