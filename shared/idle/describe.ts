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
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html). EC2 answers a page
 * of 1,000 in a second or two, so the scan asks that first: 1,000 instances in 1 call, 5,000 in 5. A slow
 * endpoint's page time grows with its instances and, on moto, with the fleet (moto renders each instance
 * by scanning every tag in the account: about 15 ms an instance at 5,000 on a loaded machine, 37 ms at
 * load 24, so a page of 1,000 outlasts the 15 s request timeout, and the client would try it 6 times).
 * The first page therefore has a budget of half the request timeout: not answered by then, it is
 * abandoned (aborted, not retried by the client) and the scan starts again at 200 and sizes each next
 * page from how long the last one took, aiming at a fifth of the request timeout (room for a load
 * spike), never below 50. A page that times out all the same (after the client's retries) is asked again
 * from the same token at half its size, at most DESCRIBE_PAGE_RETRIES times a scan: each such retry can
 * cost the client's attempts times the request timeout.
 */
export const DESCRIBE_PAGE_MAX = 1000;
export const DESCRIBE_PAGE_FIRST = DESCRIBE_PAGE_MAX;
/** Where the adaptive pages start after the first page was abandoned. */
export const DESCRIBE_PAGE_CAUTIOUS = 200;
export const DESCRIBE_PAGE_MIN = 50;
export const DESCRIBE_PAGE_TARGET_MS = SDK_LARGE_REQUEST_TIMEOUT_MS / 5;
export const DESCRIBE_FIRST_PAGE_BUDGET_MS = SDK_LARGE_REQUEST_TIMEOUT_MS / 2;
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
  /**
   * Resolves when the first page is over its budget; a timer of DESCRIBE_FIRST_PAGE_BUDGET_MS unless a
   * test sets it (a latch, so no test waits on a clock).
   */
  firstPageOverBudget?: () => Promise<void>;
}

const afterFirstPageBudget = () =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, DESCRIBE_FIRST_PAGE_BUDGET_MS).unref();
  });

/** The first page was not answered within its budget (it was aborted). */
const ABANDONED = Symbol('abandoned');

/**
 * Sends `command` and gives up when `overBudget` resolves: the request is aborted (the client does not
 * retry an abort) and ABANDONED returned. The invocation's own deadline still aborts it too.
 */
async function sendWithinBudget(
  client: EC2Client,
  command: DescribeInstancesCommand,
  overBudget: () => Promise<void>,
): Promise<DescribeInstancesCommandOutput | typeof ABANDONED> {
  const budget = new AbortController();
  const invocation = currentInvocation()?.signal;
  const abortSignal = invocation ? AbortSignal.any([budget.signal, invocation]) : budget.signal;
  const sent = client.send(command, { abortSignal });
  // The abandoned request's rejection (AbortError) is expected and must not surface as unhandled.
  sent.catch(() => undefined);
  const abandoned = overBudget().then((): typeof ABANDONED => {
    budget.abort();
    return ABANDONED;
  });
  return Promise.race([sent, abandoned]);
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
  const adaptive = paging.pageSize === undefined;
  let size = paging.pageSize ?? DESCRIBE_PAGE_FIRST;
  let retriesLeft = adaptive ? DESCRIBE_PAGE_RETRIES : 0;
  // Only the scan's very first request is on a budget: after it, pages are sized to their answers.
  let firstRequest = adaptive;
  let nextToken: string | undefined;
  for (;;) {
    let page: DescribeInstancesCommandOutput;
    const started = clock();
    const command = new DescribeInstancesCommand({
      Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
      MaxResults: size,
      NextToken: nextToken,
    });
    try {
      if (firstRequest) {
        firstRequest = false;
        const answer = await sendWithinBudget(
          client,
          command,
          paging.firstPageOverBudget ?? afterFirstPageBudget,
        );
        if (answer === ABANDONED) {
          size = DESCRIBE_PAGE_CAUTIOUS;
          logger.warn('first describe page not answered within its budget: reading in smaller pages', {
            size,
          });
          continue;
        }
        page = answer;
      } else {
        page = await client.send(command);
      }
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
    if (adaptive) size = nextDescribePageSize(size, clock() - started);
    nextToken = page.NextToken;
    if (!nextToken) return facts;
  }
  return facts;
}
