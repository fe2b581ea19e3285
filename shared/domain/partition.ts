/**
 * Partitions: a region belongs to one, and its ARNs and console links follow it
 * (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html).
 */
export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f';

/** The partition of a region: ARNs of resources there start `arn:<partition>:`. */
export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  return 'aws';
}

/**
 * The console's origin for a region: the commercial console per region, the China console
 * (https://docs.amazonaws.cn/en_us/aws/latest/userguide/endpoints-Beijing.html) and the GovCloud console
 * (https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/using-govcloud-console.html). The isolated
 * partitions have no public console: no link rather than a wrong one.
 */
export function consoleOrigin(region: string): string | undefined {
  switch (partitionOf(region)) {
    case 'aws':
      return `https://${region}.console.aws.amazon.com`;
    case 'aws-cn':
      return 'https://console.amazonaws.cn';
    case 'aws-us-gov':
      return 'https://console.amazonaws-us-gov.com';
    default:
      return undefined;
  }
}

/**
 * A console page of a service in a region, e.g. consoleUrl('eu-west-1', 'cloudwatch', '#alarmsV2:'):
 * `<origin>/<service>/home?region=<region><fragment>`; undefined where the partition has no public console.
 */
export function consoleUrl(region: string, service: string, fragment = ''): string | undefined {
  const origin = consoleOrigin(region);
  return origin ? `${origin}/${service}/home?region=${region}${fragment}` : undefined;
}

/** One link when the partition has a console, none otherwise (for a page's links). */
export function consoleLink(
  label: string,
  region: string,
  service: string,
  fragment = '',
): { label: string; url: string }[] {
  const url = consoleUrl(region, service, fragment);
  return url ? [{ label, url }] : [];
}
