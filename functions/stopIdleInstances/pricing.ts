// What a stop saves: on-demand list prices for common instance types. Used to report, never to decide.

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

/** Compute cost saved by a stop; EBS volumes stay billed, so this is an upper bound of the real saving. */
export function estimateMonthlySavingUsd(instanceType: string): number | 'unknown' {
  // Object.hasOwn so a type named like a prototype key ('constructor') is unknown, not a function.
  if (!Object.hasOwn(onDemandMonthlyUsd, instanceType)) return 'unknown';
  return onDemandMonthlyUsd[instanceType] ?? 'unknown';
}
