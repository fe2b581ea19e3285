import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { boundToInvocation } from './client.ts';
import { cloudWatchClientIn } from './cloudwatch.ts';
import { ec2ClientIn } from './ec2.ts';

/**
 * This account's EC2 and CloudWatch clients in another region (an organization's scan target in the
 * central account), built once per region by the same builders as ec2.ts and cloudwatch.ts.
 */
const byRegion = new Map<string, { ec2: EC2Client; cloudwatch: CloudWatchClient }>();

export function regionalScanClients(region: string): { ec2: EC2Client; cloudwatch: CloudWatchClient } {
  let clients = byRegion.get(region);
  if (!clients) {
    clients = {
      ec2: boundToInvocation(ec2ClientIn({ region })),
      cloudwatch: boundToInvocation(cloudWatchClientIn({ region })),
    };
    byRegion.set(region, clients);
  }
  return clients;
}
