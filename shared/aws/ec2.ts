import { EC2Client } from '@aws-sdk/client-ec2';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const ec2 = boundToInvocation(tracer.captureAWSv3Client(new EC2Client(sdkClientSettings(6))));
