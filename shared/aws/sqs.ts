import { SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const sqs = boundToInvocation(tracer.captureAWSv3Client(new SQSClient(sdkClientSettings())));
