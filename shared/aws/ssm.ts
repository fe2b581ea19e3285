import { SSMClient } from '@aws-sdk/client-ssm';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, sdkClientSettings } from './client.ts';

// StartAutomationExecution is throttled at about 1 request per second per account: let the SDK's
// standard retry strategy back off a few more times than its default before we give up visibly.
export const ssm = actingClient((target) =>
  tracer.captureAWSv3Client(new SSMClient({ ...sdkClientSettings(6), ...target })),
);
