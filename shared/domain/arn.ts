import { partitionOf } from './partition.ts';

export { partitionOf } from './partition.ts';

/**
 * The ARN of a CloudWatch alarm (metric or composite) in this account and region. The name goes in raw:
 * AWS does not escape spaces, `/` or `:` in alarm ARNs.
 */
export function alarmArn(region: string, account: string, alarmName: string): string {
  return `arn:${partitionOf(region)}:cloudwatch:${region}:${account}:alarm:${alarmName}`;
}
