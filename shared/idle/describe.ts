import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { SDK_LARGE_REQUEST_TIMEOUT_MS } from '#shared/aws/client.ts';
import { ec2 } from '#shared/aws/ec2.ts';
import { currentInvocation } from '#shared/runtime/invocation.ts';
import { logger } from '#shared/runtime/powertools.ts';
import type { InstanceFacts } from './exclusions.ts';

/**
 * DescribeInstances' MaxResults, in instances: EC2 allows 5 to 1,000 a page
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html). The time of a page
 * grows with its instances and, on a slow endpoint, with the fleet (moto renders each instance by scanning
 * every tag in the account: about 15 ms an instance at 5,000, 37 ms on a loaded machine, so a page of
 * 1,000 outlasts the 15 s request timeout). The scan therefore starts at 200 and sizes each next page
 * from how long the last one took, aiming at a fifth of the request timeout (room for a load spike): on
 * EC2 it grows to 1,000 in three pages (1,000 instances in 3 calls), on a slow endpoint it shrinks, never
 * below 50. A page that times out all the same (after the client's retries) is asked again from the same
 * token at half its size, at most DESCRIBE_PAGE_RETRIES times a scan: each such retry can cost the
 * client's attempts times the request timeout.
 */
export const DESCRIBE_PAGE_FIRST = 200;
export const DESCRIBE_PAGE_MAX = 1000;
export const DESCRIBE_PAGE_MIN = 50;
export const DESCRIBE_PAGE_TARGET_MS = SDK_LARGE_REQUEST_TIMEOUT_MS / 5;
export const DESCRIBE_PAGE_RETRIES = 2;

/** The next page's size after a page of `size` instances took `elapsedMs`: at most double, within bounds. */
export function nextDescribePageSize(size: number, elapsedMs: number): number {
  const fitting = Math.floor((size * DESCRIBE_PAGE_TARGET_MS) / Math.max(elapsedMs, 1));
  return Math.max(DESCRIBE_PAGE_MIN, Math.min(fitting, 2 * size, DESCRIBE_PAGE_MAX));
}

/** What reading the fleet cost, kept in the scan's stats. */
export interface DescribeStats {
  describePages: number;
  /** DescribeInstances pages that failed after the first: the fleet beyond them was not read (0 or 1). */
  describePagesFailed: number;
  /** Why the fleet was read only in part, for the page; absent when every page was read. */
  fleetPartlyRead?: string;
}

export interface DescribePaging {
  /** A fixed MaxResults for every page (tests of paging); the adaptive size otherwise. */
  pageSize?: number;
  /** Milliseconds, for timing pages; performance.now unless a test sets it. */
  clock?: () => number;
}

/** One DescribeInstances instance as the facts the stopper screens (the scan, an approval's re-check). */
export function toFacts(i: Instance): InstanceFacts {
  return {
    instanceId: i.InstanceId ?? '',
    instanceType: i.InstanceType ?? 'unknown',
    state: i.State?.Name ?? 'unknown',
    tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    ...(i.InstanceLifecycle ? { lifecycle: i.InstanceLifecycle } : {}),
    // Unknown is not instance-store: the stop itself would then fail visibly rather than silently skip.
    rootDeviceType: i.RootDeviceType ?? 'unknown',
    ...(i.LaunchTime ? { launchTime: i.LaunchTime.toISOString() } : {}),
  };
}

/**
 * Running instances, a DescribeInstances page at a time. A page after the first that fails (after the
 * client's retries) ends the read: the next page's token is in its answer, so nothing beyond it can be
 * read, but the instances already read are judged (stopping fewer is safe) and the page says the fleet
 * was partly read. The first page failing fails the run: nothing was read.
 */
export async function describeRunning(
  stats: DescribeStats,
  paging: DescribePaging = {},
  client: EC2Client = ec2,
): Promise<InstanceFacts[]> {
  const clock = paging.clock ?? (() => performance.now());
  const facts: InstanceFacts[] = [];
  let size = paging.pageSize ?? DESCRIBE_PAGE_FIRST;
  let retriesLeft = paging.pageSize === undefined ? DESCRIBE_PAGE_RETRIES : 0;
  let nextToken: string | undefined;
  for (;;) {
    let page: DescribeInstancesCommandOutput;
    const started = clock();
    try {
      page = await client.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
          MaxResults: size,
          NextToken: nextToken,
        }),
      );
    } catch (error) {
      // The invocation's deadline is not a page's failure: the run stops here and is retried.
      if (currentInvocation()?.signal.aborted) throw error;
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      if (timedOut && retriesLeft > 0 && size > DESCRIBE_PAGE_MIN) {
        retriesLeft--;
        size = Math.max(DESCRIBE_PAGE_MIN, Math.floor(size / 2));
        logger.warn('describe page timed out: asked again at half its size', { size, error });
        continue;
      }
      if (stats.describePages === 0) throw error;
      stats.describePagesFailed++;
      const name = error instanceof Error ? error.name : 'Error';
      stats.fleetPartlyRead = `DescribeInstances page ${stats.describePages + 1} failed (${name})`;
      logger.warn('fleet partly read', {
        pagesRead: stats.describePages,
        instancesRead: facts.length,
        error,
      });
      break;
    }
    stats.describePages++;
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? [])
        if (instance.InstanceId) facts.push(toFacts(instance));
    }
    if (paging.pageSize === undefined) size = nextDescribePageSize(size, clock() - started);
    nextToken = page.NextToken;
    if (!nextToken) return facts;
  }
  return facts;
}
