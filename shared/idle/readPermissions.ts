/**
 * The reads gather makes: the fleet, stop protection, the metrics, and the hour's stop budget. Apart
 * from gather.ts, so onCostAnomaly can name them without loading the EC2 client it reads them with.
 */
export const gatherPermissions = [
  'ec2:DescribeInstances',
  'ec2:DescribeInstanceAttribute',
  'cloudwatch:GetMetricData',
  'dynamodb:GetItem',
] as const;
