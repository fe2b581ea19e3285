import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const cloudtrail = boundToInvocation(
  tracer.captureAWSv3Client(new CloudTrailClient(sdkClientSettings(6))),
);
