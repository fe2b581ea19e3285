import { EC2Client } from '@aws-sdk/client-ec2';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, SDK_LARGE_REQUEST_TIMEOUT_MS, sdkClientSettings } from './client.ts';

// The commands this code sends, beside the client: the functions load this module with loadEc2()
// (loadEc2.ts), so that nothing of the EC2 client is evaluated until an EC2 call is made.
export {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';

export const ec2 = boundToInvocation(
  tracer.captureAWSv3Client(new EC2Client(sdkClientSettings(6, SDK_LARGE_REQUEST_TIMEOUT_MS))),
);
