import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from '#shared/runtime/powertools.ts';

export const sns = tracer.captureAWSv3Client(new SNSClient({}));
