import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, SDK_LARGE_REQUEST_TIMEOUT_MS, sdkClientSettings } from './client.ts';

/**
 * This account's EC2 and CloudWatch clients in another region (an organization's scan target in the
 * central account), built once per region with the settings of ec2.ts and cloudwatch.ts.
 */
const byRegion = new Map<string, { ec2: EC2Client; cloudwatch: CloudWatchClient }>();

export function regionalScanClients(region: string): { ec2: EC2Client; cloudwatch: CloudWatchClient } {
  let clients = byRegion.get(region);
  if (!clients) {
    clients = {
      ec2: boundToInvocation(
        tracer.captureAWSv3Client(
          new EC2Client({ ...sdkClientSettings(6, SDK_LARGE_REQUEST_TIMEOUT_MS), region }),
        ),
      ),
      cloudwatch: boundToInvocation(
        tracer.captureAWSv3Client(
          new CloudWatchClient({ ...sdkClientSettings(undefined, SDK_LARGE_REQUEST_TIMEOUT_MS), region }),
        ),
      ),
    };
    byRegion.set(region, clients);
  }
  return clients;
}
