import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation } from './client.ts';

export const cloudwatch = boundToInvocation(tracer.captureAWSv3Client(new CloudWatchClient({})));
