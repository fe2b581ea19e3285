import { S3Client } from '@aws-sdk/client-s3';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, sdkClientSettings } from './client.ts';

export const s3 = actingClient((target) =>
  tracer.captureAWSv3Client(new S3Client({ ...sdkClientSettings(6), ...target })),
);
