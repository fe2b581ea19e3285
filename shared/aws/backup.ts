import { BackupClient } from '@aws-sdk/client-backup';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, sdkClientSettings } from './client.ts';

export const backup = actingClient((target) =>
  tracer.captureAWSv3Client(new BackupClient({ ...sdkClientSettings(), ...target })),
);
