import { EC2Client } from '@aws-sdk/client-ec2';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, SDK_LARGE_REQUEST_TIMEOUT_MS, sdkClientSettings } from './client.ts';

export const ec2 = actingClient((target) =>
  tracer.captureAWSv3Client(
    new EC2Client({ ...sdkClientSettings(6, SDK_LARGE_REQUEST_TIMEOUT_MS), ...target }),
  ),
);
