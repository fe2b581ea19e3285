import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, SDK_LARGE_REQUEST_TIMEOUT_MS, sdkClientSettings } from './client.ts';

export const cloudwatch = boundToInvocation(
  tracer.captureAWSv3Client(new CloudWatchClient(sdkClientSettings(undefined, SDK_LARGE_REQUEST_TIMEOUT_MS))),
);
