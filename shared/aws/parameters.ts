import { SSMClient } from '@aws-sdk/client-ssm';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

// Its own client: the runbook client retries six times for StartAutomationExecution's throttling, while
// the kill switch is read before every live action and must answer quickly or fail safe.
export const parametersClient = boundToInvocation(
  tracer.captureAWSv3Client(new SSMClient(sdkClientSettings())),
);
