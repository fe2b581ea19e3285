/**
 * The EC2 client and the mutating calls the executors make, loaded with import() only when one runs:
 * the EC2 client is the heaviest package of bundles that rarely act on EC2 (onCloudTrail's revoke,
 * onCostAnomaly's idle stops), and the code-split build puts it in a chunk read only then.
 */
export {
  CreateTagsCommand,
  DescribeImageAttributeCommand,
  DescribeSnapshotAttributeCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
export { ec2 } from './ec2.ts';
