import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, sdkClientSettings } from './client.ts';

export const cloudtrail = actingClient((target) =>
  tracer.captureAWSv3Client(new CloudTrailClient({ ...sdkClientSettings(6), ...target })),
);
