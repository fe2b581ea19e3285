import { EC2Client } from '@aws-sdk/client-ec2';
import { tracer } from '#shared/runtime/powertools.ts';
import {
  actingClient,
  type ClientTarget,
  SDK_LARGE_REQUEST_TIMEOUT_MS,
  sdkClientSettings,
} from './client.ts';

/** An EC2 client with the scan's settings, where it runs or in a target (an account, a region). */
export const ec2ClientIn = (target?: Partial<ClientTarget>): EC2Client =>
  tracer.captureAWSv3Client(
    new EC2Client({ ...sdkClientSettings(6, SDK_LARGE_REQUEST_TIMEOUT_MS), ...target }),
  );

export const ec2 = actingClient(ec2ClientIn);
