import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const cloudwatch = boundToInvocation(
  tracer.captureAWSv3Client(new CloudWatchClient(sdkClientSettings())),
);
