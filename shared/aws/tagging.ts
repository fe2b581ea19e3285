import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, sdkClientSettings } from './client.ts';

// A resource's tags through the Resource Groups Tagging API: a small client, where the EC2 client
// (about 550 KiB of bundle) cost onAlarm a tenth of its cold start for one tag read.
export const tagging = actingClient((target) =>
  tracer.captureAWSv3Client(new ResourceGroupsTaggingAPIClient({ ...sdkClientSettings(), ...target })),
);
