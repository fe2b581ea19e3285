import { BackupClient } from '@aws-sdk/client-backup';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export const backup = boundToInvocation(tracer.captureAWSv3Client(new BackupClient(sdkClientSettings())));
