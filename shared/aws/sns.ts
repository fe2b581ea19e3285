import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const sns = boundToInvocation(tracer.captureAWSv3Client(new SNSClient(sdkClientSettings())));
