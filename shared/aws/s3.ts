import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const s3 = boundToInvocation(tracer.captureAWSv3Client(new S3Client(sdkClientSettings(6))));
