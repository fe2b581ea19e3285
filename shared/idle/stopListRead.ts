import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ec2 } from '#shared/aws/ec2.ts';
import { describeError } from '#shared/domain/errorText.ts';
import type { StopInstancesIntent } from '#shared/domain/intent.ts';
import { targetClients } from '#shared/organization/scanTargets.ts';
import type { StopTargets } from './approval.ts';
import { toFacts } from './describe.ts';
import type { InstanceFacts } from './exclusions.ts';

/*
 * approveAction's read of an approved stop list, apart from shared/idle/approval.ts, which the stoppers
 * load: a module the stoppers import must not name the whole EC2 client (a dynamic import of
 * '@aws-sdk/client-ec2' keeps every command's schema in their bundle: test/package/coldStart.test.ts).
 */

/** EC2 takes at most 200 values in one filter (DescribeInstances, Filters). */
const FILTER_VALUES = 200;

/**
 * Reads the stop list's instances again (DescribeInstances by instance-id filter, so one that no longer
 * exists is simply absent rather than failing the call), in the run's account and region: `here` is
 * where approveAction acts for the record (a member's list is read inside its member target), and a
 * list of any other account is not read.
 */
export async function readStopTargets(
  intent: StopInstancesIntent,
  here: { account: string },
): Promise<StopTargets> {
  const { target } = intent;
  if (target && target.account !== here.account) {
    return {
      unavailable: `the stops are in account ${target.account} (${target.region}), not in account ${here.account} where this approval acts`,
    };
  }
  try {
    const client = target ? (await targetClients(target)).ec2 : ec2;
    const ids = intent.instances.map((i) => i.instanceId);
    const instances: InstanceFacts[] = [];
    for (let from = 0; from < ids.length; from += FILTER_VALUES) {
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new DescribeInstancesCommand({
            Filters: [{ Name: 'instance-id', Values: ids.slice(from, from + FILTER_VALUES) }],
            NextToken: nextToken,
          }),
        );
        for (const r of page.Reservations ?? [])
          for (const i of r.Instances ?? []) if (i.InstanceId) instances.push(toFacts(i));
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return { instances };
  } catch (error) {
    return { unavailable: describeError(error) };
  }
}
