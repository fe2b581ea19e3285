/**
 * The SQS client an organization's scheduled idle scan queues its targets with, and the one call it
 * makes: loaded with import() by the fan-out executor only (shared/executors/fanOutScan.ts).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export { SendMessageBatchCommand } from '@aws-sdk/client-sqs';

export const sqs = boundToInvocation(tracer.captureAWSv3Client(new SQSClient(sdkClientSettings())));
