import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/runtime/powertools.ts';

export const cloudwatch = tracer.captureAWSv3Client(new CloudWatchClient({}));
