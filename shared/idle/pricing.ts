// What a stop saves: on-demand list prices for common instance types, scaled to the stack's region.
// Used to report, never to decide. The Price List API would be exact but needs another SDK client and
// a cache; a labelled estimate says what it is instead.

/** The region the price table below is for. */
export const PRICE_TABLE_REGION = 'us-east-1';

// us-east-1, Linux, on-demand, USD per hour: approximate public list prices (2024-2025) from
// https://aws.amazon.com/ec2/pricing/on-demand/, good enough for an estimate in a report.
export const onDemandHourlyUsd: Readonly<Record<string, number>> = {
  't3.nano': 0.0052,
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  't3.2xlarge': 0.3328,
  't3a.nano': 0.0047,
  't3a.micro': 0.0094,
  't3a.small': 0.0188,
  't3a.medium': 0.0376,
  't3a.large': 0.0752,
  't3a.xlarge': 0.1504,
  't3a.2xlarge': 0.3008,
  't4g.nano': 0.0042,
  't4g.micro': 0.0084,
  't4g.small': 0.0168,
  't4g.medium': 0.0336,
  't4g.large': 0.0672,
  't4g.xlarge': 0.1344,
  't4g.2xlarge': 0.2688,
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm6i.large': 0.096,
  'm6i.xlarge': 0.192,
  'm6i.2xlarge': 0.384,
  'm6i.4xlarge': 0.768,
  'm7g.large': 0.0816,
  'm7g.xlarge': 0.1632,
  'm7g.2xlarge': 0.3264,
  'm7g.4xlarge': 0.6528,
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c6i.large': 0.085,
  'c6i.xlarge': 0.17,
  'c6i.2xlarge': 0.34,
  'c6i.4xlarge': 0.68,
  'c7g.large': 0.0725,
  'c7g.xlarge': 0.145,
  'c7g.2xlarge': 0.29,
  'c7g.4xlarge': 0.58,
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r6i.large': 0.126,
  'r6i.xlarge': 0.252,
  'r6i.2xlarge': 0.504,
};

export const HOURS_PER_MONTH = 730;

export const roundCents = (usd: number): number => Math.round(usd * 100) / 100;

export const onDemandMonthlyUsd: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(onDemandHourlyUsd).map(([type, hourly]) => [type, roundCents(hourly * HOURS_PER_MONTH)]),
);

/**
 * A region's on-demand Linux prices relative to us-east-1: the m5.large list price there over
 * us-east-1's ($0.096/h), rounded to two decimals, read from https://aws.amazon.com/ec2/pricing/on-demand/
 * in 2025. Families differ by a few percent around it, so a priced saving is an estimate within about
 * ±10 %. China's regions are priced in CNY by another company (https://www.amazonaws.cn/en/ec2/pricing/):
 * not listed, so their savings are `unknown` rather than a dollar figure that does not exist.
 */
export const regionPriceRatio: Readonly<Record<string, number>> = {
  'us-east-1': 1,
  'us-east-2': 1,
  'us-west-1': 1.17,
  'us-west-2': 1,
  'ca-central-1': 1.11,
  'sa-east-1': 1.59,
  'eu-west-1': 1.11,
  'eu-west-2': 1.16,
  'eu-west-3': 1.17,
  'eu-central-1': 1.2,
  'eu-central-2': 1.32,
  'eu-north-1': 1.06,
  'eu-south-1': 1.17,
  'eu-south-2': 1.11,
  'ap-south-1': 1.05,
  'ap-southeast-1': 1.25,
  'ap-southeast-2': 1.25,
  'ap-southeast-3': 1.25,
  'ap-northeast-1': 1.29,
  'ap-northeast-2': 1.23,
  'ap-northeast-3': 1.29,
  'ap-east-1': 1.38,
  'me-south-1': 1.22,
  'me-central-1': 1.22,
  'af-south-1': 1.32,
  'il-central-1': 1.16,
  'us-gov-west-1': 1.26,
  'us-gov-east-1': 1.26,
};

/** How a region's savings are priced, said beside every figure: region, basis and its date. */
export interface PriceBasis {
  region: string;
  /** undefined: the region's prices are not in dollars (China), so savings are unknown. */
  ratio: number | undefined;
  label: string;
}

export function priceBasis(region: string): PriceBasis {
  if (region.startsWith('cn-')) {
    return {
      region,
      ratio: undefined,
      label: `no estimate for ${region}: its prices are in CNY (amazonaws.cn), not in this table`,
    };
  }
  const known = Object.hasOwn(regionPriceRatio, region) ? regionPriceRatio[region] : undefined;
  if (known === undefined) {
    return {
      region,
      ratio: 1,
      label: `estimate for ${region}, basis: us-east-1 on-demand Linux list prices (2025), no ratio known for ${region}`,
    };
  }
  return {
    region,
    ratio: known,
    label:
      known === 1
        ? `estimate for ${region}, basis: us-east-1 on-demand Linux list prices (2025)`
        : `estimate for ${region}, basis: us-east-1 on-demand Linux list prices (2025) x ${known} (${region}'s m5.large ratio)`,
  };
}

/**
 * Compute cost saved by a stop in `region`; EBS volumes stay billed, so this is an upper bound of the
 * real saving. `unknown` for a type not in the table or a region not priced in dollars.
 */
export function estimateMonthlySavingUsd(
  instanceType: string,
  region: string = PRICE_TABLE_REGION,
): number | 'unknown' {
  // Object.hasOwn so a type named like a prototype key ('constructor') is unknown, not a function.
  if (!Object.hasOwn(onDemandHourlyUsd, instanceType)) return 'unknown';
  const hourly = onDemandHourlyUsd[instanceType];
  const { ratio } = priceBasis(region);
  if (hourly === undefined || ratio === undefined) return 'unknown';
  return roundCents(hourly * ratio * HOURS_PER_MONTH);
}
