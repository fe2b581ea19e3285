/** The partition of a region: ARNs of resources there start `arn:<partition>:`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}

/**
 * The ARN of a CloudWatch alarm (metric or composite) in this account and region. The name goes in raw:
 * AWS does not escape spaces, `/` or `:` in alarm ARNs.
 */
export function alarmArn(region: string, account: string, alarmName: string): string {
  return `arn:${partitionOf(region)}:cloudwatch:${region}:${account}:alarm:${alarmName}`;
}
