import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, SDK_LARGE_REQUEST_TIMEOUT_MS, sdkClientSettings } from './client.ts';

export const cloudwatch = actingClient((target) =>
  tracer.captureAWSv3Client(
    new CloudWatchClient({ ...sdkClientSettings(undefined, SDK_LARGE_REQUEST_TIMEOUT_MS), ...target }),
  ),
);
