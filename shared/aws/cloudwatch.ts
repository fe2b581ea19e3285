import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/runtime/powertools.ts';
import {
  actingClient,
  type ClientTarget,
  SDK_LARGE_REQUEST_TIMEOUT_MS,
  sdkClientSettings,
} from './client.ts';

/** A CloudWatch client with the scan's settings, where it runs or in a target (an account, a region). */
export const cloudWatchClientIn = (target?: Partial<ClientTarget>): CloudWatchClient =>
  tracer.captureAWSv3Client(
    new CloudWatchClient({ ...sdkClientSettings(undefined, SDK_LARGE_REQUEST_TIMEOUT_MS), ...target }),
  );

export const cloudwatch = actingClient(cloudWatchClientIn);
