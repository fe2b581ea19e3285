/**
 * The reads gather makes: the fleet, the metrics (stop protection is learnt from StopInstances' refusal), and the hour's stop budget. Apart
 * from gather.ts, so onCostAnomaly can name them without loading the EC2 client it reads them with.
 */
export const gatherPermissions = [
  'ec2:DescribeInstances',
  'cloudwatch:GetMetricData',
  'dynamodb:GetItem',
] as const;
